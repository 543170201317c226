using FineTune.Kit.Lora;
using FineTune.Kit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Lora;

public class LoraMergeTests
{
    private static readonly long[] Ids = [3, 17, 5, 22, 0, 9];

    private static void RandomizeB(LoraAdapter adapter)
    {
        var g = new Generator(11);
        using var _ = no_grad();
        foreach (var l in adapter.Layers.Values) l.lora_B.weight!.normal_(0, 0.5, g);
    }

    private static double MaxDifference(float[][] a, float[][] b) =>
        a.Zip(b).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));

    [Theory]
    [InlineData("llama", "q_proj")]
    [InlineData("gpt2", "c_attn")]
    public void Disabling_a_merged_adapter_unmerges_it_so_the_output_is_the_base_models(string family, string target)
    {
        using var model = TinyModels.Random(TinyModels.ByName(family));
        var before = model.Logits(Ids);
        var adapter = model.AddLora(r: 4, alpha: 8, targets: [target], dropout: 0);
        RandomizeB(adapter);
        var adapted = model.Logits(Ids);
        Assert.True(MaxDifference(before, adapted) > 1e-3);
        adapter.Merge();
        adapter.SetEnabled(false);
        Assert.All(adapter.Layers.Values, l => Assert.False(l.Merged));
        Assert.True(MaxDifference(before, model.Logits(Ids)) < 1e-4);
        adapter.SetEnabled(true);
        Assert.True(MaxDifference(adapted, model.Logits(Ids)) < 1e-4);
    }

    [Fact]
    public void Merging_a_disabled_adapter_is_refused()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["q_proj"], dropout: 0);
        adapter.SetEnabled(false);
        var e = Assert.Throws<InvalidOperationException>(adapter.Merge);
        Assert.Contains("model.layers.0.self_attn.q_proj", e.Message);
    }

    [Fact]
    public void A_nan_update_is_refused_before_it_reaches_the_base_weight_and_the_error_names_the_layer()
    {
        using var model = TinyModels.Random(TinyModels.Llama());
        var adapter = model.AddLora(r: 4, alpha: 8, targets: ["q_proj"], dropout: 0);
        RandomizeB(adapter);
        var layer = adapter.Layers["model.layers.1.self_attn.q_proj"];
        using (no_grad()) layer.lora_B.weight![0, 0] = float.NaN;
        var before = model.Logits(Ids);                // the adapter path still sees the NaN, but no base weight does
        using var weightBefore = ((TorchSharp.Modules.Linear)layer.base_layer).weight!.clone();
        var e = Assert.Throws<KitException>(adapter.Merge);
        Assert.Contains("model.layers.1.self_attn.q_proj", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
        Assert.True(((TorchSharp.Modules.Linear)layer.base_layer).weight!.allclose(weightBefore, rtol: 0, atol: 0));
        Assert.False(layer.Merged);
    }

    [Fact]
    public void A_merge_that_overflows_half_precision_is_refused()
    {
        using var linear = nn.Linear(1, 1, hasBias: false, dtype: ScalarType.Float16);
        using var layer = new LoraLinear(linear, r: 1, scaling: 1, dropout: 0, name: "proj");
        using (no_grad())
        {
            linear.weight!.fill_(60000);               // float16 tops out at 65504
            layer.lora_A.weight!.fill_(1);
            layer.lora_B.weight!.fill_(10000);
        }
        var e = Assert.Throws<KitException>(layer.Merge);
        Assert.Contains("proj", e.Message);
        Assert.Contains("Float16", e.Message);
        Assert.Equal(60000f, linear.weight!.to_type(ScalarType.Float32).item<float>());
    }

    [Theory]
    [InlineData(ScalarType.Float16, 11, 9)]      // 10 fraction bits: 1 + 2^-11 is a tie, 3 + 3·2^-11 rounds up to 3 + 2^-9
    [InlineData(ScalarType.BFloat16, 8, 6)]      // 7 fraction bits: 1 + 2^-8 is a tie, 3 + 3·2^-8 rounds up to 3 + 2^-6
    public void The_update_of_half_precision_weights_is_formed_in_float32(ScalarType dtype, int tieBit, int mergedBit)
    {
        // B·A = 1 + 2^-tieBit exactly; rounded to the weight's type first it would become 1 (ties to even), and
        // scaling 3 would then give exactly 3. Formed in float32, 3 + 3·2^-tieBit rounds once, to 3 + 2^-mergedBit.
        using var linear = nn.Linear(1, 1, hasBias: false, dtype: dtype);
        using var layer = new LoraLinear(linear, r: 2, scaling: 3, dropout: 0);
        using (no_grad())
        {
            linear.weight!.zero_();
            layer.lora_A.weight![0, 0] = 1f;
            layer.lora_A.weight![1, 0] = MathF.Pow(2, -tieBit);
            layer.lora_B.weight!.fill_(1);
        }
        using var delta = layer.DeltaWeight();
        Assert.Equal(ScalarType.Float32, delta.dtype);
        Assert.Equal(3 + 3 * Math.Pow(2, -tieBit), delta.item<float>(), 9);
        layer.Merge();
        Assert.Equal(3 + Math.Pow(2, -mergedBit), linear.weight!.to_type(ScalarType.Float32).item<float>(), 9);
        // unmerging subtracts the float32 update from the rounded weight: what is left is the rounding, 2^-m − 3·2^-t
        layer.Unmerge();
        Assert.Equal(Math.Pow(2, -mergedBit) - 3 * Math.Pow(2, -tieBit), linear.weight!.to_type(ScalarType.Float32).item<float>(), 9);
    }
}
