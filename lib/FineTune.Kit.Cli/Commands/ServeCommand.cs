using System.CommandLine;
using FineTune.Kit.Monitoring;
using FineTune.Kit.Server;

namespace FineTune.Kit.Cli.Commands;

/// <summary>`ftk serve`: the model and its adapters behind an OpenAI-compatible HTTP API.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = Cli.Required<string>("--model", "Hugging Face model folder (config.json + *.safetensors + tokenizer)");
        var adapters = new Option<string[]>("--adapter") { Description = "NAME=DIR: a LoRA adapter clients select with model=NAME (repeatable)" };
        var host = Cli.Optional("--host", "Address to bind", "127.0.0.1");
        var port = Cli.Optional("--port", "Port (0: any free port)", 8080);
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1 requests" };
        var log = new Option<string?>("--log") { Description = "SQLite file that records every request (for ftk monitor)" };
        var logText = Cli.Optional("--log-text", "What the log keeps of input text: none or redacted (PII replaced)", "redacted");
        var queue = Cli.Optional("--queue", "Requests that may wait for the model before the server answers 503", 64);
        var batch = Cli.Optional("--max-batch", "Most waiting greedy requests generated together", 8);
        var timeout = Cli.Optional("--timeout", "Seconds before an unanswered request gets 504", 120.0);
        var maxBody = Cli.Optional("--max-body", "Largest request body in bytes", 1L << 20);
        var device = Cli.Optional("--device", "auto, cpu or cuda", "auto");
        var command = new Command("serve", "Serve the model and its adapters with an OpenAI-compatible API (chat, completions, classify, metrics)");
        foreach (var o in new Option[] { model, adapters, host, port, apiKey, log, logText, queue, batch, timeout, maxBody, device }) command.Options.Add(o);
        command.Handle(parse =>
        {
            var named = (parse.GetValue(adapters) ?? []).Select(a =>
            {
                var eq = a.IndexOf('=');
                return eq > 0 && eq < a.Length - 1 ? (a[..eq], a[(eq + 1)..])
                    : throw new ArgumentException($"--adapter: expected NAME=DIR, got '{a}'");
            }).ToList();
            var textMode = parse.GetValue(logText) switch
            {
                "none" => LogTextMode.None,
                "redacted" => LogTextMode.Redacted,
                var other => throw new ArgumentException($"--log-text: expected none or redacted, got '{other}'"),
            };
            var seconds = parse.GetValue(timeout);
            if (!(seconds > 0)) throw new ArgumentException($"--timeout must be positive, got {seconds}");
            var options = new ServerOptions
            {
                ModelDirectory = parse.GetValue(model)!, Adapters = named, Host = parse.GetValue(host)!, Port = parse.GetValue(port),
                ApiKey = parse.GetValue(apiKey), LogPath = parse.GetValue(log), LogText = textMode, QueueCapacity = parse.GetValue(queue),
                MaxBatch = parse.GetValue(batch), RequestTimeout = TimeSpan.FromSeconds(seconds), MaxBodyBytes = parse.GetValue(maxBody),
                Device = parse.GetValue(device)!,
            };
            var server = KitServer.StartAsync(options).GetAwaiter().GetResult();
            Console.Error.WriteLine($"ftk serve: models {string.Join(", ", server.ModelNames)}; Ctrl+C stops after answering what was accepted");
            Console.WriteLine($"listening on {server.Address.GetLeftPart(UriPartial.Authority)}");
            Console.Out.Flush();
            server.WaitForShutdownAsync().GetAwaiter().GetResult();
            server.StopAsync().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }
}
