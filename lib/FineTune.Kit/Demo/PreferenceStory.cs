using System.Diagnostics;
using FineTune.Kit.Data;
using FineTune.Kit.Evaluation;
using FineTune.Kit.Evaluation.Generation;
using FineTune.Kit.Lora;
using FineTune.Kit.Models;
using FineTune.Kit.Preferences;
using FineTune.Kit.Sample;
using FineTune.Kit.Training;
using static TorchSharp.torch;

namespace FineTune.Kit.Demo;

/// <summary>Sizes and settings of <see cref="PreferenceStory"/>; the defaults finish in minutes on a laptop CPU.</summary>
public sealed record PreferenceStoryOptions
{
    /// <summary>Folder with the sample data (support_chat.jsonl, preferences.jsonl, support_tickets.heldout.jsonl) and base-model/.</summary>
    public string DataDirectory { get; init; } = Path.Combine("data", "sample");
    /// <summary>Held-out tickets each approach answers and the judge scores.</summary>
    public int TestTickets { get; init; } = 100;
    /// <summary>Ticket → reply examples from the chat set for supervised fine-tuning.</summary>
    public int SftReplies { get; init; } = 300;
    /// <summary>Passes over the SFT replies.</summary>
    public int SftEpochs { get; init; } = 1;
    /// <summary>SFT learning rate (LoRA).</summary>
    public double SftLearningRate { get; init; } = 2e-3;
    /// <summary>Preference pairs kept out of DPO and reward-model training (the last rows of preferences.jsonl).</summary>
    public int HeldOutPairs { get; init; } = 60;
    /// <summary>Cap on training pairs (all the rest by default).</summary>
    public int MaxTrainPairs { get; init; } = int.MaxValue;
    /// <summary>Passes over the training pairs for DPO.</summary>
    public int DpoEpochs { get; init; } = 1;
    /// <summary>DPO β.</summary>
    public double Beta { get; init; } = 0.1;
    /// <summary>DPO learning rate.</summary>
    public double DpoLearningRate { get; init; } = 5e-4;
    /// <summary>Passes over the training pairs for the reward model.</summary>
    public int RewardEpochs { get; init; } = 2;
    /// <summary>Reward-model learning rate (adapter and score head).</summary>
    public double RewardLearningRate { get; init; } = 1e-3;
    /// <summary>GRPO optimizer steps (2 prompts each).</summary>
    public int GrpoSteps { get; init; } = 30;
    /// <summary>GRPO completions per prompt.</summary>
    public int GroupSize { get; init; } = 4;
    /// <summary>GRPO KL coefficient.</summary>
    public double Kl { get; init; } = 0.05;
    /// <summary>GRPO learning rate.</summary>
    public double GrpoLearningRate { get; init; } = 3e-4;
    /// <summary>Longest generated reply, in tokens (evaluation and GRPO rollouts).</summary>
    public int MaxNewTokens { get; init; } = 96;
    /// <summary>LoRA rank of every adapter (all linear projections).</summary>
    public int LoraRank { get; init; } = 8;
    /// <summary>Seed of adapters, data order and sampling.</summary>
    public int Seed { get; init; } = Seeds.Default;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void AtLeast(int v, int min, string name) { if (v < min) throw new ArgumentOutOfRangeException(name, v, $"{name} must be at least {min}."); }
        static void Positive(double v, string name) { if (!(v > 0) || !double.IsFinite(v)) throw new ArgumentOutOfRangeException(name, v, $"{name} must be a positive number."); }
        AtLeast(TestTickets, 2, nameof(TestTickets)); AtLeast(SftReplies, 1, nameof(SftReplies)); AtLeast(SftEpochs, 1, nameof(SftEpochs));
        AtLeast(HeldOutPairs, 2, nameof(HeldOutPairs)); AtLeast(MaxTrainPairs, 1, nameof(MaxTrainPairs)); AtLeast(DpoEpochs, 1, nameof(DpoEpochs));
        AtLeast(RewardEpochs, 1, nameof(RewardEpochs)); AtLeast(GrpoSteps, 1, nameof(GrpoSteps)); AtLeast(GroupSize, 2, nameof(GroupSize));
        AtLeast(MaxNewTokens, 1, nameof(MaxNewTokens)); AtLeast(LoraRank, 1, nameof(LoraRank));
        Positive(SftLearningRate, nameof(SftLearningRate)); Positive(Beta, nameof(Beta)); Positive(DpoLearningRate, nameof(DpoLearningRate));
        Positive(RewardLearningRate, nameof(RewardLearningRate)); Positive(GrpoLearningRate, nameof(GrpoLearningRate));
        if (!(Kl >= 0) || !double.IsFinite(Kl)) throw new ArgumentOutOfRangeException(nameof(Kl), Kl, "Kl must be 0 or more.");
    }
}

/// <summary>
/// Measures what preference tuning does on the sample: the base model, SFT on agent replies, SFT + DPO and
/// SFT + reward model + GRPO each answer the same held-out tickets (greedy), and the reply-relevance judge scores the
/// replies (mean with a bootstrap interval). Beside it, how the reward model, DPO's implicit reward and the judge
/// itself order held-out preference pairs, split into easy negatives (brush-offs) and hard ones (fluent replies about
/// the wrong intent, order, product or amount). DPO, the reward model and GRPO all start from the SFT model, which is
/// also their reference.
/// </summary>
public static class PreferenceStory
{
    /// <summary>The thread format of the pre-training corpus, up to where the agent's reply starts.</summary>
    public static string ReplyPrompt(string ticket) => "Customer: " + ticket + "\n\nAgent:";

    /// <summary>Runs the story; <paramref name="stage"/> hears each stage as it starts.</summary>
    public static PreferenceStoryReport Run(PreferenceStoryOptions o, Action<string>? stage = null)
    {
        o.Validate();
        stage ??= _ => { };
        var clock = Stopwatch.StartNew();
        var judge = SampleJudge.Relevance();
        string modelDir = Path.Combine(o.DataDirectory, "base-model");
        var tickets = Dataset.FromJsonl(Path.Combine(o.DataDirectory, SampleData.HeldOutFile)).AsText().Take(o.TestTickets)
            .Select(r => (Text: r.Text, Intent: r.Label!)).ToList();
        var chats = Dataset.FromJsonl(Path.Combine(o.DataDirectory, SampleData.ChatFile)).AsChat().Take(o.SftReplies)
            .Select(c => (ReplyPrompt(c.Messages.First(m => m.Role == "user").Content), " " + c.Messages.First(m => m.Role == "assistant").Content)).ToList();
        var rows = PreferenceRows(Path.Combine(o.DataDirectory, SampleData.PreferencesFile));
        if (rows.Count <= o.HeldOutPairs)
            throw new ArgumentException($"{SampleData.PreferencesFile} has {rows.Count} pairs; holding out {o.HeldOutPairs} leaves none to train on.");
        var trainRows = rows.Take(rows.Count - o.HeldOutPairs).Take(o.MaxTrainPairs).ToList();
        var testRows = rows.TakeLast(o.HeldOutPairs).ToList();
        var approaches = new List<ApproachReplies>();

        // the base model, as pre-trained: it has seen ticket threads, never been tuned on anything
        stage($"base model: answering {tickets.Count} held-out tickets");
        using (var model = CausalLM.Load(modelDir))
            approaches.Add(Answer("base", model, tickets, judge, o, TimeSpan.Zero));

        // SFT on agent replies, then merged: the starting point (and reference) of every preference method below
        stage($"SFT: LoRA on {chats.Count} ticket → reply examples");
        var sftDir = Path.Combine(Path.GetTempPath(), $"ftk-sft-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var model = CausalLM.Load(modelDir))
            {
                var tok = model.RequireTokenizer();
                var adapter = AddAdapter(model, o);
                var sft = Trainer.For(model).LearningRate(o.SftLearningRate).Epochs(o.SftEpochs).BatchSize(16)
                    .Schedule(LrScheduleKind.Cosine, warmupSteps: 5).Seed(o.Seed).Fit(SftData.Completions(chats, tok));
                adapter.MergeAndUnload();
                model.Save(sftDir);
                approaches.Add(Answer("SFT", model, tickets, judge, o, sft.Elapsed));
            }

            PreferenceData trainPairs, testPairs;
            using (var model = CausalLM.Load(sftDir))
            {
                var tok = model.RequireTokenizer();
                trainPairs = Pairs(trainRows, tok);
                testPairs = Pairs(testRows, tok);
            }
            var kinds = testRows.Select(r => r.Kind).ToList();

            stage($"SFT + DPO: {trainPairs.Count} pairs, β = {o.Beta}");
            PreferenceRun dpoRun;
            List<double> dpoMargins;
            using (var model = CausalLM.Load(sftDir))
            {
                AddAdapter(model, o);
                dpoRun = DpoTrainer.For(model).Beta(o.Beta).LearningRate(o.DpoLearningRate).Epochs(o.DpoEpochs).BatchSize(4)
                    .Schedule(LrScheduleKind.Cosine, warmupSteps: 3).Seed(o.Seed).Fit(trainPairs);
                dpoMargins = ImplicitMargins(model, testPairs, o.Beta);
                approaches.Add(Answer("SFT + DPO", model, tickets, judge, o, dpoRun.Elapsed));
            }

            stage($"reward model: Bradley–Terry on {trainPairs.Count} pairs");
            using var rmModel = CausalLM.Load(sftDir);
            var reward = RewardModel.Attach(rmModel, o.Seed);
            rmModel.AddLora(o.LoraRank, 2 * o.LoraRank, ["all-linear"], 0.0, modulesToSave: [RewardModel.HeadName], seed: o.Seed);
            var rmRun = reward.Trainer().LearningRate(o.RewardLearningRate).Epochs(o.RewardEpochs).BatchSize(8)
                .Schedule(LrScheduleKind.Cosine, warmupSteps: 3).Seed(o.Seed).Fit(trainPairs);
            var rmEval = reward.Evaluate(testPairs);

            stage($"SFT + reward model + GRPO: {o.GrpoSteps} steps × 2 prompts × {o.GroupSize} completions");
            PreferenceRun grpoRun;
            using (var model = CausalLM.Load(sftDir))
            {
                var tok = model.RequireTokenizer();
                AddAdapter(model, o);
                var prompts = trainRows.Select(r => Ids(tok, ReplyPrompt(r.Prompt))).ToList();
                grpoRun = GrpoTrainer.For(model).RewardModel(reward).GroupSize(o.GroupSize).Kl(o.Kl).MaxNewTokens(o.MaxNewTokens)
                    .LearningRate(o.GrpoLearningRate).Steps(o.GrpoSteps).BatchSize(2).Seed(o.Seed).Fit(prompts);
                approaches.Add(Answer("SFT + RM + GRPO", model, tickets, judge, o, grpoRun.Elapsed));
            }

            var judgeMargins = testRows.Select(r => judge.Score(r.Prompt, r.Chosen, Known(judge, r.Label)).Score - judge.Score(r.Prompt, r.Rejected, Known(judge, r.Label)).Score).ToList();
            var separation = new List<PairSeparation>
            {
                PairSeparation.From("relevance judge", judgeMargins, kinds),
                PairSeparation.From("reward model", rmEval.Margins, kinds),
                PairSeparation.From("DPO implicit reward", dpoMargins, kinds),
            };
            return new PreferenceStoryReport(o, approaches, separation, kinds, rmRun.History, dpoRun.History, grpoRun.History, trainPairs.Count, clock.Elapsed);
        }
        finally
        {
            if (Directory.Exists(sftDir)) Directory.Delete(sftDir, recursive: true);
        }
    }

    /// <summary>A preference row with the kind of its rejected reply ("unknown" when the file does not say) and the ticket's intent, if given.</summary>
    internal sealed record PreferenceRow(string Prompt, string Chosen, string Rejected, string Kind, string? Label);

    // a label the judge does not know is left for the judge to read from the ticket
    private static string? Known(RelevanceJudge judge, string? label) => label is not null && judge.Intents.Contains(label) ? label : null;

    private static List<PreferenceRow> PreferenceRows(string path)
    {
        var data = Dataset.FromJsonl(path);
        // PreferenceData validates every row and names bad lines; read the texts only after it has
        PreferenceData.From(data, Text.TextTokenizer.Load(Path.Combine(Path.GetDirectoryName(path)!, "base-model")), int.MaxValue);
        return data.Rows.Select(r => new PreferenceRow(r["prompt"]!, r["chosen"]!, r["rejected"]!, r["negative_kind"] ?? "unknown", r["label"])).ToList();
    }

    private static LoraAdapter AddAdapter(CausalLM model, PreferenceStoryOptions o) =>
        model.AddLora(o.LoraRank, 2 * o.LoraRank, ["all-linear"], 0.0, seed: o.Seed);

    private static long[] Ids(Text.TextTokenizer tok, string text) => tok.Encode(text).Select(i => (long)i).ToArray();

    // the reply prompt of the corpus format, and the reply after a space, ending in end-of-sequence
    private static PreferenceData Pairs(IEnumerable<PreferenceRow> rows, Text.TextTokenizer tok)
    {
        long[] Response(string text) => tok.EosId is { } eos ? [.. Ids(tok, " " + text), eos] : Ids(tok, " " + text);
        return PreferenceData.FromPairs(rows.Select(r => new PreferencePair(Ids(tok, ReplyPrompt(r.Prompt)), Response(r.Chosen), Response(r.Rejected))), maxLength: 384);
    }

    /// <summary>β·[(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))] of each pair, without gradients.</summary>
    private static List<double> ImplicitMargins(CausalLM model, PreferenceData data, double beta)
    {
        model.Module.eval();
        var margins = new List<double>();
        foreach (var chunk in data.Pairs.Chunk(8))
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var b = DpoTrainer.ScorePairs(model, chunk);
            var m = ((b.Chosen - b.RefChosen) - (b.Rejected - b.RefRejected)) * beta;
            margins.AddRange(m.cpu().data<float>().ToArray().Select(v => (double)v));
        }
        return margins;
    }

    private static ApproachReplies Answer(string name, CausalLM model, List<(string Text, string Intent)> tickets, RelevanceJudge judge,
        PreferenceStoryOptions o, TimeSpan trainedFor)
    {
        model.Module.eval();
        var tok = model.RequireTokenizer();
        var replies = new List<string>();
        foreach (var chunk in tickets.Chunk(16))
        {
            var generated = model.Generate(chunk.Select(t => (IReadOnlyList<long>)Ids(tok, ReplyPrompt(t.Text))).ToList(),
                new GenerationOptions { MaxNewTokens = o.MaxNewTokens });
            replies.AddRange(generated.Select(g => CutAtNextTurn(tok.Decode(g.Select(i => (int)i), skipSpecialTokens: true))));
        }
        var scores = tickets.Select((t, i) => judge.Score(t.Text, replies[i], t.Intent)).ToList();
        return new ApproachReplies(name, tickets.Select(t => t.Text).ToList(), replies, scores, trainedFor);
    }

    // a reply ends where the corpus would start the next turn or thread
    private static string CutAtNextTurn(string text)
    {
        foreach (var marker in new[] { "\n\nCustomer:", SampleData.DocumentSeparator, "\nTicket #" })
            if (text.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0) text = text[..at];
        return text.Trim();
    }
}

/// <summary>One approach's replies to the held-out tickets and the judge's verdict on each.</summary>
/// <param name="Name">The approach.</param>
/// <param name="Tickets">The tickets, in order.</param>
/// <param name="Replies">The generated replies (greedy), in ticket order.</param>
/// <param name="Scores">The judge's score of each reply.</param>
/// <param name="TrainedFor">Wall time of this approach's own training step (zero for the base model).</param>
public sealed record ApproachReplies(string Name, IReadOnlyList<string> Tickets, IReadOnlyList<string> Replies, IReadOnlyList<RelevanceScore> Scores, TimeSpan TrainedFor)
{
    /// <summary>Mean judge score with a 95% bootstrap interval over tickets.</summary>
    public ConfidenceInterval Score => new Bootstrap(Seed: Seeds.Default).Mean(Scores.Select(s => s.Score).ToArray());

    /// <summary>Mean of the intent part.</summary>
    public double Intent => Scores.Average(s => s.Intent);

    /// <summary>Mean of the specifics part over replies where it applies (NaN when it never does).</summary>
    public double Specifics => Scores.Where(s => s.Specifics is not null).Select(s => s.Specifics!.Value).DefaultIfEmpty(double.NaN).Average();

    /// <summary>Share of replies without a canned brush-off.</summary>
    public double NoBrushOff => Scores.Average(s => s.NoBrushOff);
}

/// <summary>How one scorer orders held-out preference pairs, overall and by the kind of negative.</summary>
/// <param name="Scorer">The scorer.</param>
/// <param name="Margins">score(chosen) − score(rejected) of each pair, in pair order.</param>
/// <param name="Accuracy">Share of pairs with a positive margin.</param>
/// <param name="EasyAccuracy">Accuracy on pairs with an easy negative (NaN when there are none).</param>
/// <param name="HardAccuracy">Accuracy on pairs with a hard negative (NaN when there are none).</param>
/// <param name="EasyMeanMargin">Mean margin on easy pairs.</param>
/// <param name="HardMeanMargin">Mean margin on hard pairs.</param>
public sealed record PairSeparation(string Scorer, IReadOnlyList<double> Margins, double Accuracy, double EasyAccuracy, double HardAccuracy,
    double EasyMeanMargin, double HardMeanMargin)
{
    /// <summary>Negative kinds that are easy: curt brush-offs and one-line off-topic replies.</summary>
    public static readonly IReadOnlySet<string> EasyKinds = new HashSet<string> { "brush_off", "short_off_topic" };

    /// <summary>Whether a negative kind is hard (anything that is not a known easy kind or "unknown").</summary>
    public static bool IsHard(string kind) => !EasyKinds.Contains(kind) && kind != "unknown";

    /// <summary>Summarises margins given each pair's negative kind.</summary>
    public static PairSeparation From(string scorer, IReadOnlyList<double> margins, IReadOnlyList<string> kinds)
    {
        if (margins.Count != kinds.Count) throw new ArgumentException($"{margins.Count} margins but {kinds.Count} kinds.");
        static double Acc(IEnumerable<double> m) => m.Select(x => x > 0 ? 1.0 : 0.0).DefaultIfEmpty(double.NaN).Average();
        static double Mean(IEnumerable<double> m) => m.DefaultIfEmpty(double.NaN).Average();
        var easy = margins.Where((_, i) => EasyKinds.Contains(kinds[i])).ToList();
        var hard = margins.Where((_, i) => IsHard(kinds[i])).ToList();
        return new PairSeparation(scorer, margins, Acc(margins), Acc(easy), Acc(hard), Mean(easy), Mean(hard));
    }
}
