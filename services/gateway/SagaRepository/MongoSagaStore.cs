using System.Linq.Expressions;
using Joinery.ServiceDefaults;
using MassTransit;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace Joinery.Gateway.SagaRepository;

/// <summary>
/// Saga instances as MongoDB documents keyed by correlation id. Every write is guarded by the version field,
/// the same contract as the SQLite adapter; the filters are public so tests can render and check them.
/// </summary>
public sealed class MongoSagaStore<TSaga> : ISagaStore<TSaga> where TSaga : class, ISagaVersion
{
    readonly IMongoCollection<TSaga> _collection;

    public MongoSagaStore(IMongoDatabase database, string? collectionName = null)
    {
        RegisterClassMap();
        _collection = database.GetCollection<TSaga>(collectionName ?? "saga_" + typeof(TSaga).Name.ToLowerInvariant());
    }

    /// <summary>The correlation id is the document's _id; unknown fields from newer versions are ignored.</summary>
    public static void RegisterClassMap()
    {
        MongoConnection.RegisterConventions();
        BsonClassMap.TryRegisterClassMap<TSaga>(map =>
        {
            map.AutoMap();
            map.MapIdMember(typeof(TSaga).GetProperty(nameof(ISaga.CorrelationId))!);
            map.SetIgnoreExtraElements(true);
        });
    }

    public static FilterDefinition<TSaga> ById(Guid correlationId) => Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId);

    /// <summary>Matches the instance only while it still holds the version it was loaded with.</summary>
    public static FilterDefinition<TSaga> AtVersion(Guid correlationId, int version) =>
        Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId) & Builders<TSaga>.Filter.Eq(x => x.Version, version);

    public static FilterDefinition<TSaga> NotNewerThan(Guid correlationId, int version) =>
        Builders<TSaga>.Filter.Eq(x => x.CorrelationId, correlationId) & Builders<TSaga>.Filter.Lte(x => x.Version, version);

    /// <summary>The page order: newest first by the given field, ties broken by the id so pages never overlap.</summary>
    public static SortDefinition<TSaga> NewestFirst(Expression<Func<TSaga, object>> field) =>
        Builders<TSaga>.Sort.Descending(field).Ascending(x => x.CorrelationId);

    public IMongoCollection<TSaga> Collection => _collection;

    public Task Initialize(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<TSaga?> Load(Guid correlationId, CancellationToken cancellationToken = default) =>
        await _collection.Find(ById(correlationId)).FirstOrDefaultAsync(cancellationToken);

    public Task Insert(TSaga saga, CancellationToken cancellationToken = default) =>
        _collection.InsertOneAsync(saga, cancellationToken: cancellationToken);

    public async Task Update(TSaga saga, CancellationToken cancellationToken = default)
    {
        var result = await _collection.ReplaceOneAsync(AtVersion(saga.CorrelationId, saga.Version - 1), saga, cancellationToken: cancellationToken);
        if (result.MatchedCount == 0)
            throw new ConcurrencyException("Saga update failed: the instance changed since it was loaded", typeof(TSaga), saga.CorrelationId);
    }

    public async Task Delete(TSaga saga, CancellationToken cancellationToken = default)
    {
        var result = await _collection.DeleteOneAsync(NotNewerThan(saga.CorrelationId, saga.Version), cancellationToken);
        if (result.DeletedCount == 0)
            throw new ConcurrencyException("Saga delete failed: the instance changed since it was loaded", typeof(TSaga), saga.CorrelationId);
    }

    public async Task<IReadOnlyList<TSaga>> Query(Expression<Func<TSaga, bool>> filter, CancellationToken cancellationToken = default) =>
        await _collection.Find(filter).ToListAsync(cancellationToken);

    public async Task<SagaPage<TSaga>> Page(Expression<Func<TSaga, bool>> filter, Expression<Func<TSaga, object>> newestFirstBy, int skip,
        int take, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        var total = await _collection.CountDocumentsAsync(filter, cancellationToken: cancellationToken);
        // Limit(0) would mean "no limit" to the server, so a count-only call reads no documents at all.
        var items = take == 0
            ? []
            : await _collection.Find(filter)
                .Sort(NewestFirst(newestFirstBy))
                .Skip(skip)
                .Limit(take)
                .ToListAsync(cancellationToken);
        return new SagaPage<TSaga>(items, total);
    }

    public bool IsDuplicateKey(Exception exception) => MongoConnection.IsDuplicateKey(exception);
}
