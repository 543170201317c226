using System.Text;

namespace FineTune.Kit.Serving;

/// <summary>
/// Reads the pieces of a SentencePiece <c>tokenizer.model</c> (a protobuf ModelProto) for llama.cpp's "llama"
/// tokenizer: each piece's text, score and type, and whether a dummy-prefix space is added.
/// </summary>
internal static class SentencePieceGguf
{
    private const int BpeModelType = 2;

    public static GgufTokenizer FromModelFile(string path, int vocabSize)
    {
        var bytes = File.ReadAllBytes(path);
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<GgufTokenType>();
        int modelType = 1;            // trainer_spec.model_type defaults to UNIGRAM
        bool addDummyPrefix = true;   // normalizer_spec.add_dummy_prefix defaults to true
        try
        {
            foreach (var (field, wire, value, start, length) in Fields(bytes, 0, bytes.Length))
            {
                if (field == 1 && wire == 2)
                {
                    string piece = ""; float score = 0; int type = 1;
                    foreach (var (f, w, v, s, l) in Fields(bytes, start, length))
                    {
                        if (f == 1 && w == 2) piece = Encoding.UTF8.GetString(bytes, s, l);
                        else if (f == 2 && w == 5) score = BitConverter.ToSingle(bytes, s);
                        else if (f == 3 && w == 0) type = (int)v;
                    }
                    tokens.Add(piece);
                    scores.Add(score);
                    types.Add(type is >= 1 and <= 6 ? (GgufTokenType)type : GgufTokenType.Normal);
                }
                else if (field == 2 && wire == 2)
                {
                    foreach (var (f, w, v, _, _) in Fields(bytes, start, length))
                        if (f == 3 && w == 0) modelType = (int)v;
                }
                else if (field == 3 && wire == 2)
                {
                    foreach (var (f, w, v, _, _) in Fields(bytes, start, length))
                        if (f == 3 && w == 0) addDummyPrefix = v != 0;
                }
            }
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidDataException or OverflowException)
        {
            throw new GgufExportException($"{path}: not a readable SentencePiece model: {e.Message}", e);
        }
        if (tokens.Count == 0) throw new GgufExportException($"{path}: the SentencePiece model has no pieces.");
        if (modelType != BpeModelType)
            throw new GgufExportException($"{path}: SentencePiece model type {modelType} is not BPE (2); llama.cpp's \"llama\" tokenizer merges by score like SentencePiece BPE and would split a unigram model's text differently.");
        if (tokens.Count > vocabSize)
            throw new GgufExportException($"{path}: {tokens.Count} pieces, but the model's embedding has only {vocabSize} rows (vocab_size).");
        for (int id = tokens.Count; id < vocabSize; id++)
        {
            tokens.Add($"[PAD{id}]");
            scores.Add(-1000f);
            types.Add(GgufTokenType.Unused);
        }
        return new GgufTokenizer { Model = "llama", Tokens = tokens, TokenTypes = types, Scores = scores, AddSpacePrefix = addDummyPrefix };
    }

    // The fields of one protobuf message: number, wire type, varint value (wire 0), and where the payload lies.
    private static IEnumerable<(int Field, int Wire, ulong Value, int Start, int Length)> Fields(byte[] b, int start, int length)
    {
        int at = start, end = start + length;
        while (at < end)
        {
            ulong key = Varint(b, ref at);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(b, ref at), 0, 0); break;
                case 1: yield return (field, wire, 0, at, 8); at += 8; break;
                case 2:
                    int len = checked((int)Varint(b, ref at));
                    if (len < 0 || at + len > end) throw new InvalidDataException($"field {field} runs past the end of its message");
                    yield return (field, wire, 0, at, len);
                    at += len;
                    break;
                case 5: yield return (field, wire, 0, at, 4); at += 4; break;
                default: throw new InvalidDataException($"wire type {wire} at byte {at}");
            }
        }
    }

    private static ulong Varint(byte[] b, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte x = b[at++];
            value |= (ulong)(x & 0x7F) << shift;
            if ((x & 0x80) == 0) return value;
        }
        throw new InvalidDataException($"varint too long at byte {at}");
    }
}
