using FineTune.Kit.Text;
using FineTune.Kit.Data;
namespace FineTune.Kit.Prompting;

/// <summary>
/// Scores candidate continuations of a prompt with a language model: returns the total log-likelihood (natural log)
/// of each continuation given the prompt, aligned with <paramref name="continuations"/>. Implemented by the model core
/// (a causal LM with label scoring); length normalisation, if wanted, is the scorer's choice.
/// </summary>
public delegate IReadOnlyList<double> LabelScorer(string prompt, IReadOnlyList<string> continuations);

/// <summary>Counts the tokens of a prompt with the model's tokenizer.</summary>
public delegate int TokenCounter(string text);

/// <summary>Renders chat messages with a model's chat template into the prompt text, ready for the assistant's reply.</summary>
public delegate string ChatTemplateRenderer(IReadOnlyList<ChatMessage> messages);
