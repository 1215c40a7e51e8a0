namespace Joinery.EndToEnd.Support;

/// <summary>Polls a condition until it holds or a deadline passes; never a fixed sleep standing in for an event.</summary>
public static class Eventually
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Returns the first probed value that satisfies <paramref name="done"/>; fails with the last one seen.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what,
        Func<T, string>? describe = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
                return last;
            if (DateTime.UtcNow >= deadline)
                break;
            await Task.Delay(Interval);
        }
        var seen = describe is null ? last?.ToString() : describe(last);
        throw new TimeoutException($"Not within {timeout.TotalSeconds:0}s: {what}. Last seen: {seen}");
    }
}
