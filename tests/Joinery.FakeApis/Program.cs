using Joinery.FakeApis;

// dotnet run --project tests/Joinery.FakeApis -- --urls http://127.0.0.1:8090
var app = FakeApiApp.Build(args);
app.Run();

/// <summary>Public so that test projects can name this assembly's entry point.</summary>
public partial class Program { }
