using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace FineTune.Kit.Tests.Browser;

/// <summary>
/// Headless Chromium from the distribution's package (scripts/install-test-deps.sh), driven by Playwright with no
/// browser download. One browser per test class (a class fixture); each page gets its own context.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Where the Debian package puts the browser.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>True when the browser is installed.</summary>
    public static bool Installed => File.Exists(ExecutablePath);

    /// <summary>Why browser tests cannot run here.</summary>
    public static string MissingMessage =>
        $"Chromium was not found at {ExecutablePath}: the report pages are tested in a real browser. " +
        "Install it with scripts/install-test-deps.sh (Debian package 'chromium').";

    /// <summary>The running browser; fails the test with a clear message when Chromium is not installed.</summary>
    public IBrowser Browser => _browser ?? throw new Xunit.Sdk.XunitException(MissingMessage);

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (!Installed) return;
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath, Headless = true, Args = Arguments,
        });
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}

/// <summary>
/// A test that needs Chromium: without it the test is skipped (visibly) on a developer's machine, and runs and fails
/// with <see cref="ChromiumFixture.MissingMessage"/> in CI (CI=true).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    /// <summary>Sets the skip reason when Chromium is missing outside CI.</summary>
    public BrowserFactAttribute()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!ChromiumFixture.Installed && !ci) Skip = ChromiumFixture.MissingMessage;
    }
}

/// <summary>What a page did in the browser.</summary>
internal sealed record PageFindings(
    IReadOnlyList<string> BlockedRequests, IReadOnlyList<string> ConsoleErrors, IReadOnlyList<string> ChartIds,
    IReadOnlyList<string> ChartsWithoutSvg, int ScrollWidth, int ViewportWidth, IReadOnlyList<string> WideElements,
    IReadOnlyList<string> MisplacedLabels)
{
    /// <summary>Fails with every problem found: blocked requests, console errors, undrawn charts, overflow, labels.</summary>
    public void AssertClean(string page, int minCharts = 1)
    {
        var problems = new List<string>();
        if (BlockedRequests.Count > 0) problems.Add($"requests outside the page (blocked): {string.Join(", ", BlockedRequests)}");
        if (ConsoleErrors.Count > 0) problems.Add($"console errors: {string.Join(" | ", ConsoleErrors)}");
        if (ChartIds.Count < minCharts) problems.Add($"{ChartIds.Count} Plotly charts, expected at least {minCharts}");
        if (ChartsWithoutSvg.Count > 0) problems.Add($"charts that drew no SVG: {string.Join(", ", ChartsWithoutSvg)}");
        if (ScrollWidth > ViewportWidth)
            problems.Add($"page is {ScrollWidth} px wide in a {ViewportWidth} px window; widest: {string.Join("; ", WideElements)}");
        if (MisplacedLabels.Count > 0) problems.Add($"axis labels off their chart or on a plot area: {string.Join("; ", MisplacedLabels.Take(8))}");
        Assert.True(problems.Count == 0, $"{page}:\n" + string.Join("\n", problems));
    }
}

/// <summary>Opens a report page offline in Chromium and collects what a reader would notice.</summary>
internal static class ReportPage
{
    private static readonly Regex PlotCall = new(@"Plotly\.newPlot\('([^']+)'", RegexOptions.Compiled);

    public static async Task<PageFindings> Open(IBrowser browser, string path, int width = 1280, int height = 900)
    {
        var blocked = new List<string>();
        var errors = new List<string>();
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await context.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "file" or "data" or "blob" || url.Host is "localhost" or "127.0.0.1") await route.ContinueAsync();
            else
            {
                lock (blocked) blocked.Add(route.Request.Url);
                await route.AbortAsync();
            }
        });
        var page = await context.NewPageAsync();
        page.Console += (_, message) => { if (message.Type == "error") lock (errors) errors.Add(message.Text); };
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        await page.GotoAsync(new Uri(Path.GetFullPath(path)).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        var ids = PlotCall.Matches(await File.ReadAllTextAsync(path)).Select(m => m.Groups[1].Value).Distinct().ToArray();
        try
        {
            await page.WaitForFunctionAsync("ids => ids.every(id => document.getElementById(id)?.querySelector('.main-svg'))", ids,
                new PageWaitForFunctionOptions { Timeout = 15_000 });
        }
        catch (TimeoutException) { }       // reported below, chart by chart
        var undrawn = await page.EvaluateAsync<string[]>("ids => ids.filter(id => !document.getElementById(id)?.querySelector('.main-svg'))", ids);
        int scrollWidth = await page.EvaluateAsync<int>("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)");
        int viewport = await page.EvaluateAsync<int>("window.innerWidth");
        var wide = await page.EvaluateAsync<string[]>("""
            () => [...document.body.querySelectorAll('*')]
                .map(e => ({ e, r: e.getBoundingClientRect() }))
                .filter(x => x.r.right > window.innerWidth + 0.5)
                .sort((a, b) => b.r.right - a.r.right).slice(0, 5)
                .map(x => `${x.e.tagName.toLowerCase()}${x.e.id ? '#' + x.e.id : ''}${x.e.className && typeof x.e.className === 'string' ? '.' + x.e.className.split(' ')[0] : ''} to ${Math.round(x.r.right)} px`)
            """);
        // tick labels must stay inside their chart and off every plot area (side-by-side subplots put one matrix's
        // labels on top of its neighbour)
        var misplaced = await page.EvaluateAsync<string[]>("""
            ids => ids.flatMap(id => {
                const chart = document.getElementById(id);
                const svg = chart?.querySelector('.main-svg');
                if (!svg) return [];
                const box = svg.getBoundingClientRect();
                const areas = [...chart.querySelectorAll('.nsewdrag')].map(a => a.getBoundingClientRect());
                const cut = (r, b) => Math.min(r.right, b.right) - Math.max(r.left, b.left) > 1 && Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top) > 1;
                return [...chart.querySelectorAll('.xtick text, .ytick text')].flatMap(t => {
                    const r = t.getBoundingClientRect();
                    if (r.width === 0) return [];
                    const out = r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
                    const over = areas.some(a => cut(r, a));
                    return out || over ? [`${id}: '${t.textContent}' ${out ? 'runs off the chart' : 'lies on a plot area'}`] : [];
                });
            })
            """, ids);
        return new PageFindings(blocked, errors, ids, undrawn, scrollWidth, viewport, wide, misplaced);
    }
}
