namespace Joinery.EndToEnd.Support;

public static class RepoRoot
{
    /// <summary>The folder holding Joinery.slnx, found by walking up from the test assembly's folder.</summary>
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Joinery.slnx")))
                return dir.FullName;
        throw new InvalidOperationException($"No Joinery.slnx above {AppContext.BaseDirectory}");
    }
}
