using Joinery.ServiceDefaults;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Joinery.Gateway.SagaRepository;

public static class SqliteSagaRepositoryRegistration
{
    /// <summary>Stores this saga's instances in <paramref name="database"/>, through MassTransit's public repository registration.</summary>
    public static ISagaRegistrationConfigurator<TSaga> SqliteRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        SqliteDatabase database)
        where TSaga : class, ISagaVersion
    {
        configurator.Repository(r => Register(r, database));
        return configurator;
    }

    internal static void Register<TSaga>(ISagaRepositoryRegistrationConfigurator<TSaga> services, SqliteDatabase database)
        where TSaga : class, ISagaVersion
    {
        services.TryAddSingleton(new SqliteSagaStore<TSaga>(database));
        services.RegisterLoadSagaRepository<TSaga, SqliteSagaRepositoryContextFactory<TSaga>>();
        services.RegisterQuerySagaRepository<TSaga, SqliteSagaRepositoryContextFactory<TSaga>>();
        services.RegisterSagaRepository<TSaga, SqliteSagaStore<TSaga>, SagaConsumeContextFactory<SqliteSagaStore<TSaga>, TSaga>,
            SqliteSagaRepositoryContextFactory<TSaga>>();
    }
}

/// <summary>
/// Selects the SQLite repository for every versioned saga registered after it, the way the test harness or a host
/// picks a repository without touching each saga's registration.
/// </summary>
public sealed class SqliteSagaRepositoryRegistrationProvider(SqliteDatabase database) : ISagaRepositoryRegistrationProvider
{
    public void Configure<TSaga>(ISagaRegistrationConfigurator<TSaga> configurator) where TSaga : class, ISaga
    {
        if (!typeof(ISagaVersion).IsAssignableFrom(typeof(TSaga)))
            throw new NotSupportedException($"{typeof(TSaga).Name} must implement ISagaVersion to be stored in SQLite");

        // The generic constraint cannot be proven here, so bind the versioned overload by reflection once per saga type.
        typeof(SqliteSagaRepositoryRegistrationProvider)
            .GetMethod(nameof(ConfigureVersioned), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(typeof(TSaga))
            .Invoke(this, [configurator]);
    }

    void ConfigureVersioned<TSaga>(ISagaRegistrationConfigurator<TSaga> configurator) where TSaga : class, ISagaVersion =>
        configurator.SqliteRepository(database);
}
