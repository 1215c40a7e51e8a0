using System.Globalization;
using System.Text;

namespace Joinery.Bench;

/// <summary>Collects figures as the run goes, prints the table, then the machine-readable lines, and writes those to a file.</summary>
public sealed class Report
{
    readonly List<(string Section, string Label, string Value)> _table = [];
    readonly List<(string Name, double Value, string Unit)> _lines = [];
    readonly List<string> _notes = [];

    public void Add(string section, string label, string value) => _table.Add((section, label, value));

    public void Metric(string name, double value, string unit) => _lines.Add((name, value, unit));

    public void Note(string note) => _notes.Add(note);

    public static string F(double v, string format = "0.0") =>
        double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    public string Render()
    {
        var sb = new StringBuilder();
        var width = Math.Max(20, _table.Count == 0 ? 0 : _table.Max(r => r.Label.Length));
        string? section = null;
        sb.AppendLine();
        sb.AppendLine("==================== Joinery benchmark ====================");
        foreach (var (s, label, value) in _table)
        {
            if (s != section)
            {
                sb.AppendLine();
                sb.AppendLine(s);
                section = s;
            }
            sb.Append("  ").Append(label.PadRight(width)).Append("  ").AppendLine(value);
        }
        if (_notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var n in _notes)
                sb.Append("note: ").AppendLine(n);
        }
        sb.AppendLine();
        sb.Append(Lines());
        return sb.ToString();
    }

    public string Lines()
    {
        var sb = new StringBuilder();
        foreach (var (name, value, unit) in _lines)
            sb.Append(name).Append(' ').Append(F(value, value == Math.Floor(value) && Math.Abs(value) < 1e12 ? "0" : "0.###"))
              .Append(' ').AppendLine(unit);
        return sb.ToString();
    }

    public void Write(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, Lines());
        File.WriteAllText(Path.ChangeExtension(full, ".table.txt"), Render());
    }
}
