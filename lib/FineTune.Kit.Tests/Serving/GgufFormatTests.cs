using FineTune.Kit.Models;
using FineTune.Kit.Serving;
using FineTune.Kit.Tests.Models;

namespace FineTune.Kit.Tests.Serving;

/// <summary>The GGUF layout, Q8_0 blocks and the row permutation, against hand-computed values and round trips.</summary>
public class GgufFormatTests
{
    [Fact]
    public void Q8BlockMatchesHandComputedValues()
    {
        // max |x| = 2.54, so d = 0.02 and q = round(x / 0.02), halves away from zero
        var x = new float[32];
        x[0] = 2.54f; x[1] = -1.27f; x[2] = 0.01f; x[3] = -0.01f; x[4] = 0.03f; x[5] = 0.0299f; x[6] = -2.54f; x[7] = 1.0f;
        var block = Q8Blocks.Quantize(x);
        Assert.Equal(34, block.Length);
        Assert.Equal((Half)0.02f, BitConverter.ToHalf(block, 0));
        var q = block.Skip(2).Select(b => (int)(sbyte)b).ToArray();
        Assert.Equal([127, -64, 1, -1, 2, 1, -127, 50], q[..8]);   // -63.5 → -64, 0.5 → 1, -0.5 → -1, 1.5 → 2, 1.495 → 1
        Assert.All(q[8..], v => Assert.Equal(0, v));
        var back = Q8Blocks.Dequantize(block);
        Assert.Equal((float)(Half)0.02f * 127, back[0]);
    }

    [Fact]
    public void Q8AllZeroBlockHasZeroScale()
    {
        var block = Q8Blocks.Quantize(new float[32]);
        Assert.All(block, b => Assert.Equal(0, b));
        Assert.Throws<ArgumentException>(() => Q8Blocks.Quantize(new float[31]));
    }

    [Fact]
    public void RotaryRowsAreInterleavedPerHead()
    {
        // 2 heads of head_dim 4, rows of length 1: head rows [r0 r1 | i0 i1] become [r0 i0 r1 i1]
        var rows = new float[] { 0, 1, 2, 3, 10, 11, 12, 13 };
        Assert.Equal([0, 2, 1, 3, 10, 12, 11, 13], GgufExporter.InterleaveRotaryHalves(rows, heads: 2, headDim: 4, rowLength: 1));
        var wide = new float[] { 0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f };   // one head, rows of length 2 move whole
        Assert.Equal([0, 0.5f, 2, 2.5f, 1, 1.5f, 3, 3.5f], GgufExporter.InterleaveRotaryHalves(wide, heads: 1, headDim: 4, rowLength: 2));
    }

    [Fact]
    public void MetadataAndTensorsRoundTripThroughTheReader()
    {
        var path = Path.Combine(TempFolder.Fresh(), "t.gguf");
        var matrix = Enumerable.Range(0, 3 * 64).Select(i => (float)Math.Sin(i)).ToArray();
        new GgufWriter()
            .Set("general.architecture", GgufValue.String("llama"))
            .Set("general.alignment", GgufValue.UInt32(32))
            .Set("a.u32", GgufValue.UInt32(7)).Set("a.i32", GgufValue.Int32(-7)).Set("a.u64", GgufValue.UInt64(1UL << 40))
            .Set("a.f32", GgufValue.Float32(0.25f)).Set("a.bool", GgufValue.Bool(true)).Set("a.text", GgufValue.String("héllo 😀"))
            .Set("a.strings", GgufValue.Strings(["Ġthe", "", "<|im_end|>"])).Set("a.ints", GgufValue.Int32s([1, -2, 3]))
            .Set("a.floats", GgufValue.Float32s([0.5f, -1f]))
            .Add(new GgufTensorSource("odd", [5], GgmlType.F32, () => [1, 2, 3, 4, 5]))
            .Add(new GgufTensorSource("m16", [3, 64], GgmlType.F16, () => matrix))
            .Add(new GgufTensorSource("m8", [3, 64], GgmlType.Q8_0, () => matrix))
            .Save(path);
        var file = GgufFile.Read(path);
        Assert.Equal(3u, file.Version);
        Assert.Equal("llama", file.Metadata["general.architecture"].AsString());
        Assert.Equal(7, file.Metadata["a.u32"].AsInt64());
        Assert.Equal(GgufValueType.UInt32, file.Metadata["a.u32"].Type);
        Assert.Equal(-7, file.Metadata["a.i32"].AsInt64());
        Assert.Equal(1L << 40, file.Metadata["a.u64"].AsInt64());
        Assert.Equal(0.25, file.Metadata["a.f32"].AsDouble());
        Assert.True(file.Metadata["a.bool"].AsBool());
        Assert.Equal("héllo 😀", file.Metadata["a.text"].AsString());
        Assert.Equal(["Ġthe", "", "<|im_end|>"], file.Metadata["a.strings"].AsStrings());
        Assert.Equal([1, -2, 3], (int[])file.Metadata["a.ints"].Value);
        Assert.Equal([0.5f, -1f], (float[])file.Metadata["a.floats"].Value);
        Assert.Equal(["general.architecture", "general.alignment", "a.u32"], file.MetadataInOrder.Take(3).Select(kv => kv.Key));

        // dims innermost first; every tensor starts on a 32-byte boundary even after the 20-byte one
        Assert.Equal([64UL, 3UL], file.Tensor("m16").Dimensions);
        Assert.Equal([3L, 64L], file.Tensor("m16").Shape);
        Assert.All(file.Tensors, t => Assert.Equal(0UL, t.Offset % 32));
        Assert.Equal(0, file.DataOffset % 32);
        Assert.Equal(32UL, file.Tensor("m16").Offset);
        Assert.Equal([1f, 2, 3, 4, 5], file.ReadTensor("odd"));
        Assert.Equal(matrix.Select(v => (float)(Half)v), file.ReadTensor("m16"));
        Assert.Equal(Q8Blocks.Dequantize(Q8Blocks.Quantize(matrix)), file.ReadTensor("m8"));
        Assert.Equal(new FileInfo(path).Length, file.DataOffset + (long)file.Tensor("m8").Offset + 6 * 34 + 20);   // six blocks, padded to 32
    }

    [Fact]
    public void ExportedTensorsCarryLlamaCppNamesShapesAndValues()
    {
        var dir = TinyExportModels.Folder("llama");
        using var model = CausalLM.Load(dir, new LoadOptions { Device = "cpu" });
        var path = Path.Combine(dir, "m.gguf");
        GgufExporter.Export(model, path, GgufFileType.F32);
        var file = GgufFile.Read(path);
        var c = model.Config;
        Assert.Equal("llama", file.Metadata["general.architecture"].AsString());
        Assert.Equal(32, file.Metadata["general.alignment"].AsInt64());
        Assert.Equal(0, file.Metadata["general.file_type"].AsInt64());
        Assert.Equal(c.HiddenSize, file.Metadata["llama.embedding_length"].AsInt64());
        Assert.Equal(c.NumKvHeads, file.Metadata["llama.attention.head_count_kv"].AsInt64());
        Assert.Equal(c.HeadDim, file.Metadata["llama.rope.dimension_count"].AsInt64());
        Assert.Equal("gpt2", file.Metadata["tokenizer.ggml.model"].AsString());
        Assert.Equal("gpt-2", file.Metadata["tokenizer.ggml.pre"].AsString());
        Assert.Equal(c.VocabSize, file.Metadata["tokenizer.ggml.tokens"].AsStrings().Length);
        Assert.Equal($"[PAD{c.VocabSize - 1}]", file.Metadata["tokenizer.ggml.tokens"].AsStrings()[^1]);
        Assert.Equal(3, ((int[])file.Metadata["tokenizer.ggml.token_type"].Value)[1]);   // <|im_start|> is a control token
        Assert.Equal(FineTune.Kit.Text.ChatTemplate.ChatMl.Jinja, file.Metadata["tokenizer.chat_template"].AsString());
        Assert.Equal(2 + 9 * c.NumLayers + 1, file.Tensors.Count);   // embeddings, norm, output + 9 per block
        Assert.Equal([(ulong)c.HiddenSize, (ulong)c.VocabSize], file.Tensor("token_embd.weight").Dimensions);
        Assert.Equal([(ulong)c.IntermediateSize, (ulong)c.HiddenSize], file.Tensor("blk.1.ffn_down.weight").Dimensions);

        var state = model.StateForSaving().ToDictionary(kv => kv.Name, kv => kv.Tensor.contiguous().data<float>().ToArray());
        Assert.Equal(state["model.layers.1.mlp.down_proj.weight"], file.ReadTensor("blk.1.ffn_down.weight"));
        Assert.Equal(state["lm_head.weight"], file.ReadTensor("output.weight"));
        // k_proj rows come back in Hugging Face order when the interleaving is undone
        var k = file.ReadTensor("blk.0.attn_k.weight");
        int hd = c.HeadDim, row = c.HiddenSize;
        var undone = new float[k.Length];
        for (int h = 0; h < c.NumKvHeads; h++)
            for (int j = 0; j < hd / 2; j++)
                for (int i = 0; i < 2; i++)
                    Array.Copy(k, (h * hd + 2 * j + i) * row, undone, (h * hd + i * hd / 2 + j) * row, row);
        Assert.Equal(state["model.layers.0.self_attn.k_proj.weight"], undone);
        Assert.Equal(0, file.Metadata["tokenizer.ggml.eos_token_id"].AsInt64());
        Assert.False(file.Metadata["tokenizer.ggml.add_bos_token"].AsBool());
        Assert.Equal(""""
            FROM ./m.gguf
            TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}
            {{ .Content }}<|im_end|>
            {{ end }}<|im_start|>assistant
            """
            PARAMETER stop "<|im_end|>"
            PARAMETER stop "<|endoftext|>"

            """", File.ReadAllText(Path.Combine(dir, "Modelfile")));
    }

    [Fact]
    public void ReaderNamesTheFileAndTheProblem()
    {
        var dir = TempFolder.Fresh();
        var notGguf = Path.Combine(dir, "x.gguf");
        File.WriteAllBytes(notGguf, new byte[64]);
        Assert.Contains("not a GGUF file", Assert.Throws<GgufFormatException>(() => GgufFile.Read(notGguf)).Message);

        var good = Path.Combine(dir, "good.gguf");
        new GgufWriter().Set("k", GgufValue.Strings(["a", "b"]))
            .Add(new GgufTensorSource("t", [64], GgmlType.F32, () => new float[64])).Save(good);
        var bytes = File.ReadAllBytes(good);
        var truncated = Path.Combine(dir, "truncated.gguf");
        File.WriteAllBytes(truncated, bytes[..^100]);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Read(truncated));
        Assert.Contains("truncated.gguf", e.Message);
        Assert.Contains("'t'", e.Message);
        var header = Path.Combine(dir, "header.gguf");
        File.WriteAllBytes(header, bytes[..40]);
        Assert.Contains("truncated", Assert.Throws<GgufFormatException>(() => GgufFile.Read(header)).Message);
    }
}
