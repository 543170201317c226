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
    /// <summary>
    /// Calls the overload whose first parameter takes <paramref name="first"/> (or, when it is null, whose parameters
    /// are all optional) and which has every named parameter.
    /// </summary>
    public static object? Call(Type type, string name, Type[] generics, object? first, params (string Name, object? Value)[] args)
    {
        var method = type.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name == name && m.GetGenericArguments().Length == generics.Length)
            .Select(m => generics.Length > 0 ? m.MakeGenericMethod(generics) : m)
            .First(m =>
            {
                var ps = m.GetParameters();
                if (ps.Length == 0 || !args.All(a => ps.Skip(first is null ? 0 : 1).Any(p => p.Name == a.Name))) return false;
                return first is null ? ps.All(p => IsOption(p.ParameterType)) : ps[0].ParameterType.IsInstanceOfType(first);
            });
        var parameters = method.GetParameters();
        var values = new object?[parameters.Length];
        if (first is not null) values[0] = first;
        foreach (var (argName, value) in args)
        {
            var p = parameters.Skip(first is null ? 0 : 1).First(x => x.Name == argName);
            values[p.Position] = IsOption(p.ParameterType) && value is not null && !IsOption(value.GetType())
                ? p.ParameterType.GetMethod("Some")!.Invoke(null, [value])
                : value;
        }
        return method.Invoke(null, values);
    }

    private static bool IsOption(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(FSharpOption<>);

    /// <summary>A bar chart of integer values over string keys.</summary>
    public static GenericChart Column(string[] keys, int[] values, string name) =>
        (GenericChart)Call(typeof(Chart2D_Bar.Chart), "Column", [typeof(int), typeof(string), typeof(string), typeof(int), typeof(int)],
            values, ("Keys", keys), ("Name", name), ("ShowLegend", true))!;

    /// <summary>Applies title and axis titles.</summary>
    public static GenericChart Titled(GenericChart chart, string title, string xTitle, string yTitle)
    {
        chart = Apply(Call(typeof(Plotly.NET.Chart), "withTitle", [], title), chart);
        chart = Apply(Call(typeof(Plotly.NET.Chart), "withXAxisStyle", [typeof(string), typeof(string), typeof(string)], null, ("TitleText", xTitle)), chart);
        return Apply(Call(typeof(Plotly.NET.Chart), "withYAxisStyle", [typeof(string), typeof(string), typeof(string)], null, ("TitleText", yTitle)), chart);
    }

    private static GenericChart Apply(object? function, GenericChart chart) => ((FSharpFunc<GenericChart, GenericChart>)function!).Invoke(chart);
}
