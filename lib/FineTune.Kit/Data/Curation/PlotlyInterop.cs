using System.Reflection;
using Microsoft.FSharp.Core;
using Plotly.NET;

namespace FineTune.Kit.Data.Curation;

/// <summary>
/// Calls Plotly.NET's F# chart functions from C# with named arguments only. Their optional F# arguments are not
/// optional to the C# compiler, so every argument not given is passed as F# <c>None</c> (null at run time) and given
/// values are wrapped in <c>Some</c>.
/// </summary>
internal static class PlotlyInterop
{
    public static object? Call(Type type, string name, Type[] generics, params (string Name, object? Value)[] args)
    {
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name == name && m.GetGenericArguments().Length == generics.Length)
            .Select(m => generics.Length > 0 ? m.MakeGenericMethod(generics) : m)
            .First(m => args.All(a => m.GetParameters().Any(p => p.Name == a.Name)) && FirstFits(m, args));
        var parameters = method.GetParameters();
        var values = new object?[parameters.Length];
        foreach (var (argName, value) in args)
        {
            var p = parameters.Single(x => x.Name == argName);
            values[p.Position] = IsOption(p.ParameterType) && value is not null && !IsOption(value.GetType())
                ? p.ParameterType.GetMethod("Some")!.Invoke(null, [value])
                : value;
        }
        return method.Invoke(null, values);
    }

    private static bool FirstFits(MethodInfo m, (string Name, object? Value)[] args)
    {
        var p = m.GetParameters();
        return p.Length > 0 && args.Any(a => a.Name == p[0].Name && a.Value is not null && p[0].ParameterType.IsInstanceOfType(a.Value));
    }

    private static bool IsOption(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(FSharpOption<>);

    /// <summary>A bar chart of integer values over string keys.</summary>
    public static GenericChart Column(string[] keys, int[] values, string name) =>
        (GenericChart)Call(typeof(Chart2D_Bar.Chart), "Column", [typeof(int), typeof(string), typeof(string), typeof(int), typeof(int)],
            ("values", values), ("Keys", keys), ("Name", name), ("ShowLegend", true))!;

    /// <summary>Applies title and axis titles.</summary>
    public static GenericChart Titled(GenericChart chart, string title, string xTitle, string yTitle)
    {
        chart = Apply(Call(typeof(Plotly.NET.Chart), "withTitle", [], ("title", title)), chart);
        chart = Apply(Call(typeof(Plotly.NET.Chart), "withXAxisStyle", [typeof(string), typeof(string), typeof(string)], ("TitleText", xTitle)), chart);
        return Apply(Call(typeof(Plotly.NET.Chart), "withYAxisStyle", [typeof(string), typeof(string), typeof(string)], ("TitleText", yTitle)), chart);
    }

    private static GenericChart Apply(object? function, GenericChart chart) => ((FSharpFunc<GenericChart, GenericChart>)function!).Invoke(chart);
}
