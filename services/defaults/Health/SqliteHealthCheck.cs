using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Joinery.ServiceDefaults.Health;

public static class SqliteHealthExtensions
{
    /// <summary>
    /// The service's SQLite file (see <see cref="SqliteDatabase.For"/>) plus a readiness check for it: the SQLite
    /// counterpart of <see cref="PersistenceConfiguration.AddMongoDatabase"/>.
    /// </summary>
    public static SqliteDatabase AddSqliteDatabase(this IHostApplicationBuilder builder, string service)
    {
        var database = SqliteDatabase.For(builder.Configuration, service);
        builder.Services.AddHealthChecks()
            .AddCheck($"sqlite-{service}", new SqliteHealthCheck(database), tags: [ServiceDefaultsExtensions.ReadyTag]);
        return database;
    }
}

/// <summary>
/// Ready while the service's SQLite file exists and answers a read. The file is opened without the create flag on
/// purpose: a file deleted or a volume gone must fail readiness, not be replaced by an empty database. Before the
/// service has created its schema the file does not exist yet, so the service is not ready until it has.
/// </summary>
public sealed class SqliteHealthCheck(SqliteDatabase database) : IHealthCheck
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = database.Path,
            Mode = SqliteOpenMode.ReadWrite,
            DefaultTimeout = (int)Timeout.TotalSeconds,
            Pooling = false,
        }.ToString();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(timeout.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM sqlite_master";
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is SqliteException or OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"SQLite database {Path.GetFileName(database.Path)} is unavailable: {ex.Message}");
        }
    }
}
