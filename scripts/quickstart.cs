#!/usr/bin/env dotnet
// The kit from a single C# file: `dotnet run scripts/quickstart.cs [output-folder]` (.NET 10 file-based app).
// The repository's Directory.Build.props/targets apply here as in the projects (TorchSharp's native library is
// prepared the same way), and package versions come from Directory.Packages.props.
#:project ../lib/FineTune.Kit/FineTune.Kit.csproj
#:package Plotly.NET.CSharp

using FineTune.Kit.Plots;
using Plotly.NET.CSharp;
using TorchSharp;

var outDir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "ftk-quickstart");

// TorchSharp works: a 2x2 tensor of ones sums to 4
using var ones = torch.ones(2, 2);
float sum = ones.sum().item<float>();
Console.WriteLine($"torch.ones(2, 2).sum() = {sum}");

// a chart on an offline HTML page
double[] steps = [1, 2, 3, 4, 5];
double[] loss = [2.3, 1.7, 1.2, 0.9, 0.8];
var chart = Chart.Line<double, double, string>(x: steps, y: loss, Name: "training loss");
var page = new HtmlPage("FineTune.Kit quickstart")
    .Paragraph("A chart drawn by Plotly.NET, with plotly.js embedded so the page opens offline.")
    .Chart(chart);
var path = Path.Combine(outDir, "quickstart.html");
page.Save(path);
Console.WriteLine($"wrote {path}");
