using System.Threading.Channels;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Prompting;
using FineTune.Kit.Text;

namespace FineTune.Kit.Server;

/// <summary>Work for the model: generation or classification for one request, under one adapter (null: the base).</summary>
internal abstract class ModelJob(string? adapter, CancellationToken cancel)
{
    public string? Adapter { get; } = adapter;
    public CancellationToken Cancel { get; } = cancel;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Continue each prompt (the same prompt n times for n choices).</summary>
internal sealed class GenerateJob(string? adapter, IReadOnlyList<IReadOnlyList<long>> prompts, GenerationOptions options, CancellationToken cancel)
    : ModelJob(adapter, cancel)
{
    public IReadOnlyList<IReadOnlyList<long>> Prompts { get; } = prompts;
    public GenerationOptions Options { get; } = options;
    /// <summary>Greedy jobs with the same adapter, length and stop tokens give the same answer alone or together.</summary>
    public string? BatchKey { get; } = options.Temperature <= 0 && options.RepetitionPenalty == 1.0
        ? $"{adapter}|{options.MaxNewTokens}|{string.Join(',', options.StopTokens.Order())}" : null;
    public IReadOnlyList<long[]> Result { get; set; } = [];
    /// <summary>Called on the model's thread with (row of this job, token) as each token is chosen; streaming reads it.</summary>
    public Action<int, long>? OnToken { get; init; }
    /// <summary>Set by the reader when it wants no more tokens (every choice hit a stop sequence).</summary>
    public bool Satisfied { get => Volatile.Read(ref _satisfied); set => Volatile.Write(ref _satisfied, value); }
    private bool _satisfied;
    /// <summary>True while some reader still wants this job's tokens.</summary>
    public bool Wanted => !Satisfied && !Cancel.IsCancellationRequested;
}

/// <summary>Classify each text with the model's prompt.json.</summary>
internal sealed class ClassifyJob(string? adapter, PromptTemplate template, IReadOnlyList<string> texts, CancellationToken cancel)
    : ModelJob(adapter, cancel)
{
    public PromptTemplate Template { get; } = template;
    public IReadOnlyList<string> Texts { get; } = texts;
    public IReadOnlyList<ClassifierOutput> Result { get; set; } = [];
}

/// <summary>
/// The one model in memory and the queue in front of it. A single worker thread takes jobs in arrival order; waiting
/// greedy generations of the same adapter are generated together as one batch. The model holds one adapter at a time
/// (see <see cref="AdapterSet"/>), so all model access goes through this worker: a request never sees another
/// adapter's weights, and adapter switches happen between batches.
/// </summary>
internal sealed class ModelHost : IDisposable
{
    private readonly Channel<ModelJob> _queue;
    private readonly Dictionary<string, string?> _adapterByModel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PromptTemplate?> _promptByModel = new(StringComparer.Ordinal);
    private readonly int _maxBatch;
    private Thread? _worker;

    public ModelHost(ServerOptions options)
    {
        Model = CausalLM.Load(options.ModelDirectory, new LoadOptions { Device = options.Device });
        BaseName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelDirectory)));
        try
        {
            Tokenizer = Model.RequireTokenizer();
            Adapters = new AdapterSet(Model);
            _adapterByModel[BaseName] = null;
            _promptByModel[BaseName] = PromptFile.TryLoad(options.ModelDirectory);
            foreach (var (name, dir) in options.Adapters)
            {
                if (_adapterByModel.ContainsKey(name)) throw new ArgumentException($"--adapter: the name '{name}' is already taken (the base model is '{BaseName}')");
                Adapters.Add(name, dir);
                _adapterByModel[name] = name;
                _promptByModel[name] = PromptFile.TryLoad(dir);
            }
            ChatTemplate = ChatTemplateOf(options.ModelDirectory, Tokenizer);
        }
        catch
        {
            Model.Dispose();        // a bad adapter or chat template must not leave the model's native memory behind
            throw;
        }
        // a turn ends at the template's end-of-turn token; generation also stops at the tokenizer's end of sequence
        ChatStopTokens = TurnEndTokens.Where(t => ChatTemplate.Jinja?.Contains(t, StringComparison.Ordinal) == true || ChatTemplate.SpecialTokens.Contains(t))
            .Select(t => Tokenizer.TokenToId(t)).OfType<int>().Select(id => (long)id).Distinct().ToList();
        ChatStopStrings = ChatTemplate == ChatTemplate.Plain ? ["\n"] : [];
        Capacity = options.QueueCapacity;
        _maxBatch = options.MaxBatch;
        _queue = Channel.CreateBounded<ModelJob>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
        });
    }

    public CausalLM Model { get; }
    public TextTokenizer Tokenizer { get; }
    public AdapterSet Adapters { get; }
    /// <summary>The base model's name in /v1/models: its folder name.</summary>
    public string BaseName { get; }
    public ChatTemplate ChatTemplate { get; }
    /// <summary>Token ids that end an assistant turn under the chat template.</summary>
    public IReadOnlyList<long> ChatStopTokens { get; }
    /// <summary>Strings that end an assistant turn (plain-text template).</summary>
    public IReadOnlyList<string> ChatStopStrings { get; }
    public int Capacity { get; }
    public int ContextLength => Model.Config.MaxPositions;
    public int QueueLength => _queue.Reader.Count;
    /// <summary>Holds the worker before each batch while reset (tests fill the queue with it).</summary>
    internal ManualResetEventSlim Gate { get; } = new(true);
    /// <summary>Called on the model's thread after each generation step with the step's index (tests hold generation with it).</summary>
    internal Action<int>? StepHook { get; set; }

    /// <summary>Every model name clients may ask for: the base first, then the adapters.</summary>
    public IEnumerable<string> ModelNames => _adapterByModel.Keys;

    /// <summary>The adapter for a model name; false when the name is unknown.</summary>
    public bool TryResolve(string model, out string? adapter) => _adapterByModel.TryGetValue(model, out adapter);

    /// <summary>The prompt.json saved with the model or adapter, if any.</summary>
    public PromptTemplate? PromptFor(string model) => _promptByModel.GetValueOrDefault(model);

    // the end-of-turn markers of the chat templates of common model families (ChatML, Llama 3, Gemma, Phi-3)
    private static readonly string[] TurnEndTokens = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "<|end|>"];

    /// <summary>
    /// The chat template conversations are rendered with: the model's own (chat_template.jinja or tokenizer_config.json's
    /// chat_template; a built-in one when it is exactly that), else the built-in one whose special tokens the tokenizer
    /// has, else plain text. A model template that does not parse is an error naming it, not a silent fallback.
    /// </summary>
    public static ChatTemplate ChatTemplateOf(string modelDirectory, TextTokenizer tokenizer)
    {
        if (tokenizer.Config.ChatTemplate is not null || tokenizer.Config.NamedChatTemplates.Count > 0
            || File.Exists(Path.Combine(modelDirectory, "chat_template.jinja")))
        {
            var own = ChatTemplate.FromTokenizerFolder(modelDirectory);
            return ChatTemplate.All.FirstOrDefault(t => t.Jinja == own.Jinja) ?? own;
        }
        if (tokenizer.SpecialTokens.ContainsKey("<|im_start|>")) return ChatTemplate.ChatMl;
        if (tokenizer.SpecialTokens.ContainsKey("<|start_header_id|>")) return ChatTemplate.Llama3;
        return ChatTemplate.Plain;
    }

    /// <summary>Queues a job; false when the queue is full.</summary>
    public bool TryEnqueue(ModelJob job) => _queue.Writer.TryWrite(job);

    public void Start()
    {
        _worker = new Thread(Work) { IsBackground = true, Name = "ftk-serve-model" };
        _worker.Start();
    }

    /// <summary>Takes no more jobs, finishes the ones accepted, and waits for the worker.</summary>
    public void Stop()
    {
        _queue.Writer.TryComplete();
        Gate.Set();
        _worker?.Join();
    }

    private void Work()
    {
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            Gate.Wait();
            var jobs = new List<ModelJob>();
            while (jobs.Count < _maxBatch && reader.TryRead(out var job)) jobs.Add(job);
            var live = new List<ModelJob>();
            foreach (var job in jobs)
                if (job.Cancel.IsCancellationRequested) job.Done.TrySetCanceled(job.Cancel);
                else live.Add(job);
            // keep arrival order: consecutive runs of the same adapter, greedy ones of one key batched together
            foreach (var group in Batches(live)) Run(group);
        }
    }

    private static IEnumerable<List<ModelJob>> Batches(List<ModelJob> jobs)
    {
        var used = new bool[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            if (used[i]) continue;
            used[i] = true;
            var group = new List<ModelJob> { jobs[i] };
            if (jobs[i] is GenerateJob { BatchKey: { } key })
                for (var j = i + 1; j < jobs.Count; j++)
                    if (!used[j] && jobs[j] is GenerateJob { BatchKey: { } other } && other == key) { used[j] = true; group.Add(jobs[j]); }
            yield return group;
        }
    }

    private void Run(List<ModelJob> group)
    {
        try
        {
            Adapters.Use(group[0].Adapter);
            switch (group[0])
            {
                case GenerateJob first:
                    var jobs = group.Cast<GenerateJob>().ToList();
                    var prompts = jobs.SelectMany(j => j.Prompts).ToList();
                    var step = 0;
                    var results = Model.Generate(prompts, first.Options with { OnStep = chosen => Step(jobs, chosen, step++) });
                    var at = 0;
                    foreach (var job in jobs)
                    {
                        job.Result = results.Skip(at).Take(job.Prompts.Count).ToList();
                        at += job.Prompts.Count;
                    }
                    break;
                case ClassifyJob classify:
                    var classifier = Model.Classifier(classify.Template);
                    classify.Result = classify.Texts.Select(classifier.Classify).ToList();
                    break;
            }
            foreach (var job in group) job.Done.TrySetResult();
        }
        catch (Exception e)
        {
            foreach (var job in group) job.Done.TrySetException(e);
        }
    }

    /// <summary>
    /// Hands each job its rows' new tokens as they are chosen (streaming sends them at once), and ends generation early
    /// when no job of the batch wants more: every client gone or every stream past its stop sequence.
    /// </summary>
    private bool Step(List<GenerateJob> jobs, IReadOnlyList<long?> chosen, int step)
    {
        var row = 0;
        foreach (var job in jobs)
        {
            for (var r = 0; r < job.Prompts.Count; r++, row++)
                if (job.OnToken is { } onToken && chosen[row] is { } token && job.Wanted) onToken(r, token);
        }
        StepHook?.Invoke(step);
        return jobs.Any(j => j.Wanted);
    }

    public void Dispose()
    {
        Stop();
        Model.Dispose();
        Gate.Dispose();
    }
}
