using Joinery.ServiceDefaults;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;

namespace Joinery.Gateway.SagaRepository;

public static class SagaStoreRegistration
{
    /// <summary>Stores this saga's instances in <paramref name="database"/>, through MassTransit's public repository registration.</summary>
    public static ISagaRegistrationConfigurator<TSaga> SqliteRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        SqliteDatabase database)
        where TSaga : class, ISagaVersion =>
        configurator.StoreRepository(new SqliteSagaStore<TSaga>(database));

    public static ISagaRegistrationConfigurator<TSaga> MongoRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        IMongoDatabase database)
        where TSaga : class, ISagaVersion =>
        configurator.StoreRepository(new MongoSagaStore<TSaga>(database));

    /// <summary>Plugs <paramref name="store"/> (or one already registered) into MassTransit's saga pipeline.</summary>
    public static ISagaRegistrationConfigurator<TSaga> StoreRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        ISagaStore<TSaga> store)
        where TSaga : class, ISagaVersion
    {
        configurator.Repository(services =>
        {
            services.TryAddSingleton(store);
            services.RegisterLoadSagaRepository<TSaga, SagaStoreRepositoryContextFactory<TSaga>>();
            services.RegisterQuerySagaRepository<TSaga, SagaStoreRepositoryContextFactory<TSaga>>();
            services.RegisterSagaRepository<TSaga, ISagaStore<TSaga>, SagaConsumeContextFactory<ISagaStore<TSaga>, TSaga>,
                SagaStoreRepositoryContextFactory<TSaga>>();
        });
        return configurator;
    }
}

/// <summary>
/// Selects our repository for every versioned saga registered after it, the way the test harness or a host picks
/// a repository without touching each saga's registration.
/// </summary>
public sealed class SagaStoreRepositoryRegistrationProvider(Func<Type, object> createStore) : ISagaRepositoryRegistrationProvider
{
    public static SagaStoreRepositoryRegistrationProvider Sqlite(SqliteDatabase database) =>
        new(t => Activator.CreateInstance(typeof(SqliteSagaStore<>).MakeGenericType(t), database, null)!);

    public static SagaStoreRepositoryRegistrationProvider Mongo(IMongoDatabase database) =>
        new(t => Activator.CreateInstance(typeof(MongoSagaStore<>).MakeGenericType(t), database, null)!);

    public void Configure<TSaga>(ISagaRegistrationConfigurator<TSaga> configurator) where TSaga : class, ISaga
    {
        if (!typeof(ISagaVersion).IsAssignableFrom(typeof(TSaga)))
            throw new NotSupportedException($"{typeof(TSaga).Name} must implement ISagaVersion to be stored with a version guard");

        // The generic constraint cannot be proven here, so bind the versioned overload by reflection once per saga type.
        typeof(SagaStoreRepositoryRegistrationProvider)
            .GetMethod(nameof(ConfigureVersioned), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(typeof(TSaga))
            .Invoke(this, [configurator]);
    }

    void ConfigureVersioned<TSaga>(ISagaRegistrationConfigurator<TSaga> configurator) where TSaga : class, ISagaVersion =>
        configurator.StoreRepository((ISagaStore<TSaga>)createStore(typeof(TSaga)));
}
