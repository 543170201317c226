using static TorchSharp.torch;

namespace FineTune.Kit.Tests.Build;

public class TorchLoadsTests
{
    [Fact]
    public void Matmul_runs_on_cpu()
    {
        using var a = ones(2, 3);
        using var b = ones(3, 4);
        using var c = a.matmul(b);
        Assert.Equal(3f, c[1, 2].item<float>());
    }
}
