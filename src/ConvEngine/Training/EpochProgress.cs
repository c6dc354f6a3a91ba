namespace ConvEngine.Training;

/// <summary>
/// How far an interrupted epoch got: the steps done and the running sums of its loss and metrics, so a resumed
/// epoch ends with exactly the means an uninterrupted one logs.
/// </summary>
internal sealed record EpochProgress(int Steps, double LossSum, long Samples, double[] MetricSums, long Rows);
