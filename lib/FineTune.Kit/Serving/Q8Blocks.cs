namespace FineTune.Kit.Serving;

/// <summary>
/// GGML's Q8_0 quantisation: values in blocks of 32, each block one f16 scale d = max|x| / 127 followed by 32 signed
/// bytes q = round(x / d) (half away from zero). A value comes back as d·q.
/// </summary>
public static class Q8Blocks
{
    /// <summary>Quantises values (a multiple of 32 of them) into Q8_0 blocks.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> values)
    {
        if (values.Length % Gguf.Q8BlockSize != 0)
            throw new ArgumentException($"Q8_0 needs a multiple of {Gguf.Q8BlockSize} values, got {values.Length}.", nameof(values));
        var output = new byte[values.Length / Gguf.Q8BlockSize * Gguf.Q8BlockBytes];
        for (int block = 0; block < values.Length / Gguf.Q8BlockSize; block++)
        {
            var x = values.Slice(block * Gguf.Q8BlockSize, Gguf.Q8BlockSize);
            float amax = 0;
            foreach (var v in x) amax = Math.Max(amax, Math.Abs(v));
            // the quants use the exact float scale; only the stored scale is rounded to f16 (as ggml does)
            float d = amax / 127f;
            float inverse = d != 0 ? 1f / d : 0f;
            int at = block * Gguf.Q8BlockBytes;
            BitConverter.TryWriteBytes(output.AsSpan(at, 2), (Half)d);
            for (int j = 0; j < Gguf.Q8BlockSize; j++)
                output[at + 2 + j] = unchecked((byte)(sbyte)MathF.Round(x[j] * inverse, MidpointRounding.AwayFromZero));
        }
        return output;
    }

    /// <summary>Expands Q8_0 blocks back to floats.</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> blocks)
    {
        if (blocks.Length % Gguf.Q8BlockBytes != 0)
            throw new ArgumentException($"Q8_0 data must be whole blocks of {Gguf.Q8BlockBytes} bytes, got {blocks.Length}.", nameof(blocks));
        var values = new float[blocks.Length / Gguf.Q8BlockBytes * Gguf.Q8BlockSize];
        for (int block = 0; block < blocks.Length / Gguf.Q8BlockBytes; block++)
        {
            int at = block * Gguf.Q8BlockBytes;
            float d = (float)BitConverter.ToHalf(blocks.Slice(at, 2));
            for (int j = 0; j < Gguf.Q8BlockSize; j++)
                values[block * Gguf.Q8BlockSize + j] = d * unchecked((sbyte)blocks[at + 2 + j]);
        }
        return values;
    }
}
