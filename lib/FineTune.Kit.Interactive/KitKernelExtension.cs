using System.Runtime.CompilerServices;
using FineTune.Kit.Interactive.Native;
using Microsoft.DotNet.Interactive;

namespace FineTune.Kit.Interactive;

/// <summary>
/// Loaded by .NET Interactive (VS Code Polyglot Notebooks, Jupyter, dotnet-repl) when a notebook runs
/// <c>#r "nuget: FineTune.Kit.Interactive"</c>: prepares TorchSharp's native library and FSharp.Core before any cell
/// uses them, then registers the kit's formatters.
/// </summary>
public sealed class KitKernelExtension : IKernelExtension
{
    /// <summary>What the last load did, for the notebook and for tests.</summary>
    public static string? LastLoadMessage { get; private set; }

    /// <inheritdoc />
    public Task OnLoadAsync(Kernel kernel)
    {
        // first: anything below may touch Plotly.NET, which needs FSharp.Core bound to the engine's copy
        FSharpCoreBinding.Install();
        var native = TorchNativeLoader.EnsureLoadable();
        var formatted = RegisterFormatters();
        var version = typeof(KitKernelExtension).Assembly.GetName().Version?.ToString(3);
        LastLoadMessage = $"FineTune.Kit {version} extension loaded: TorchSharp native library: {native.Reason}; " +
                          $"formatters for {formatted} types (charts with plotly.js embedded once, reports, DataFrames).";
        if (KernelInvocationContext.Current is { } context) KernelInvocationContextExtensions.Display(context, LastLoadMessage, "text/plain");
        return Task.CompletedTask;
    }

    // kept out of OnLoadAsync so that Plotly.NET is only resolved once the FSharp.Core binding is in place
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int RegisterFormatters() => KitFormatters.Register().Count;
}
