// Tests share TorchSharp's process-wide random generator and thread pool: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
