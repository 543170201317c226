namespace FineTune.Kit.Data.Curation;

/// <summary>Curation as a step on a data set: <c>raw.Curate(c => c.StripHtml().DropDuplicates())</c>.</summary>
public static class DatasetCuration
{
    /// <summary>Runs a curation pipeline built by <paramref name="build"/>; returns the curated data and its report.</summary>
    public static CurationResult Curate(this Dataset data, Func<CurationPipeline, CurationPipeline> build) => build(new CurationPipeline()).Run(data);
}
