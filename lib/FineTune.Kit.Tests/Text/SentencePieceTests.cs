using System.Text;
using FineTune.Kit.Text;
using FineTune.Kit.Data;

namespace FineTune.Kit.Tests.Text;

public class SentencePieceTests
{
    // Pieces of a tiny byte-fallback BPE model: specials, 256 byte pieces, then ordinary pieces whose score orders merges.
    private static readonly string[] Normal = ["▁", "h", "e", "l", "o", "▁h", "ll", "▁he", "llo", "▁hello"];

    [Fact]
    public void TokenizerModelLoadsThroughLlamaTokenizer()
    {
        var dir = TempFolder.Fresh();
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), TinyModel());
        var tok = TextTokenizer.Load(dir);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Equal(0, tok.UnkId);
        Assert.Equal(3 + 256 + Normal.Length, tok.VocabSize);
        var helloId = 3 + 256 + Array.IndexOf(Normal, "▁hello");
        Assert.Equal([helloId], tok.Encode("hello"));
        Assert.Equal([1, helloId], tok.Encode("hello", addSpecialTokens: true));
        // 'w', 'r', 'd' and the emoji are not pieces: they fall back to bytes and still decode exactly.
        foreach (var text in new[] { "hello world", "hello 😀 hello" })
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void ATokenizerJsonTheKitCannotReadGivesWayToTheModelButKeepsItsAddedTokens()
    {
        // a Unigram tokenizer.json (not implemented) beside the tokenizer.model: the model is used, and the chat marker
        // that only the json lists is still one token
        var dir = TempFolder.Fresh();
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), TinyModel());
        int userId = 3 + 256 + Normal.Length;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"),
            $$"""{"model": {"type": "Unigram", "vocab": []}, "added_tokens": [{"id": {{userId}}, "content": "<|user|>", "special": true}]}""");
        var tok = TextTokenizer.Load(dir);
        var helloId = 3 + 256 + Array.IndexOf(Normal, "▁hello");
        Assert.Equal(userId, tok.TokenToId("<|user|>"));
        Assert.Contains(userId, tok.Encode("<|user|>hello"));
        Assert.Contains(helloId, tok.Encode("<|user|>hello"));
    }

    [Fact]
    public void ChatLossMaskWithSentencePieceCoversTheAssistantReply()
    {
        var dir = TempFolder.Fresh();
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), TinyModel());
        var tok = TextTokenizer.Load(dir);
        Assert.False(tok.IsByteLevel);
        var enc = ChatTemplate.Plain.Encode(tok, [ChatMessage.User("hello hello"), ChatMessage.Assistant("hello world")]);
        var trained = enc.Ids.Where((_, i) => enc.LossMask[i]).ToList();
        Assert.Equal("hello world\n", tok.Decode(trained).TrimStart());
        Assert.DoesNotContain(enc.Ids.Where((_, i) => !enc.LossMask[i]), id => tok.Decode([id]).Contains("world"));
    }

    [Fact]
    public void GarbageTokenizerModelIsATokenizerFormatException()
    {
        var dir = TempFolder.Fresh();
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        var e = Assert.ThrowsAny<TokenizerFormatException>(() => TextTokenizer.Load(dir));
        Assert.Contains("tokenizer.model", e.Message);
    }

    internal static byte[] TinyModel()
    {
        var model = new List<byte>();
        void Piece(string text, float score, int type)
        {
            var p = new List<byte>();
            Bytes(p, 1, Encoding.UTF8.GetBytes(text));
            p.Add((2 << 3) | 5);
            p.AddRange(BitConverter.GetBytes(score));
            Varint(p, 3, (ulong)type);
            Bytes(model, 1, p.ToArray());
        }
        Piece("<unk>", 0, 2);
        Piece("<s>", 0, 3);
        Piece("</s>", 0, 3);
        for (var b = 0; b < 256; b++) Piece($"<0x{b:X2}>", 0, 6);
        for (var i = 0; i < Normal.Length; i++) Piece(Normal[i], -i, 1);

        var trainer = new List<byte>();
        Varint(trainer, 3, 2);    // model_type = BPE
        Varint(trainer, 35, 1);   // byte_fallback
        Varint(trainer, 40, 0);   // unk_id
        Varint(trainer, 41, 1);   // bos_id
        Varint(trainer, 42, 2);   // eos_id
        Bytes(model, 2, trainer.ToArray());

        var normalizer = new List<byte>();
        Bytes(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
        Varint(normalizer, 3, 1); // add_dummy_prefix
        Varint(normalizer, 4, 0); // remove_extra_whitespaces
        Varint(normalizer, 5, 1); // escape_whitespaces
        Bytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    private static void Varint(List<byte> into, int field, ulong value)
    {
        Raw(into, (ulong)(field << 3));
        Raw(into, value);
    }

    private static void Bytes(List<byte> into, int field, byte[] value)
    {
        Raw(into, (ulong)((field << 3) | 2));
        Raw(into, (ulong)value.Length);
        into.AddRange(value);
    }

    private static void Raw(List<byte> into, ulong v)
    {
        while (v >= 0x80) { into.Add((byte)(v | 0x80)); v >>= 7; }
        into.Add((byte)v);
    }
}
