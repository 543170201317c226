namespace FineTune.Kit.Data.Curation;

/// <summary>Generated short texts with planted near duplicates, for benchmarks and tests of duplicate detection.</summary>
public static class SyntheticTexts
{
    /// <summary>
    /// Ticket-like texts of 8 to 16 words from a 3,000-word made-up vocabulary; after the first few rows, one row in
    /// ten is a copy of an earlier row with one word replaced (Jaccard of 5-character shingles mostly 0.7 to 0.95), so
    /// a threshold around 0.8 has work to do. The same seed gives the same texts.
    /// </summary>
    public static List<string> Generate(int count, int seed)
    {
        var random = new Random(seed);
        string[] syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "gor", "lin", "mar", "tes", "qua", "bri"];
        var vocab = Enumerable.Range(0, 3000).Select(_ =>
            string.Concat(Enumerable.Range(0, random.Next(2, 4)).Select(_ => syllables[random.Next(syllables.Length)]))).ToArray();
        var texts = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            if (i > 10 && random.NextDouble() < 0.1)
            {
                var words = texts[random.Next(i)].Split(' ');
                words[random.Next(words.Length)] = vocab[random.Next(vocab.Length)];
                texts.Add(string.Join(' ', words));
                continue;
            }
            texts.Add(string.Join(' ', Enumerable.Range(0, random.Next(8, 17)).Select(_ => vocab[random.Next(vocab.Length)])));
        }
        return texts;
    }
}
