using System.Linq.Expressions;
using MassTransit;

namespace Joinery.Gateway.SagaRepository;

/// <summary>
/// Where saga instances live: one small port with an adapter per database (SQLite, MongoDB). MassTransit's
/// repository contexts are written once on top of it.
/// </summary>
public interface ISagaStore<TSaga> where TSaga : class, ISagaVersion
{
    Task Initialize(CancellationToken cancellationToken = default);

    Task<TSaga?> Load(Guid correlationId, CancellationToken cancellationToken = default);

    /// <summary>Inserts a new instance; a second insert of the same id throws an exception that <see cref="IsDuplicateKey"/> recognises.</summary>
    Task Insert(TSaga saga, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="saga"/>, whose Version the caller has already incremented, only over the stored instance at
    /// Version - 1; otherwise throws MassTransit's <see cref="ConcurrencyException"/>.
    /// </summary>
    Task Update(TSaga saga, CancellationToken cancellationToken = default);

    /// <summary>Deletes the instance unless it changed since it was loaded (<see cref="ConcurrencyException"/>).</summary>
    Task Delete(TSaga saga, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TSaga>> Query(Expression<Func<TSaga, bool>> filter, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the instances matching <paramref name="filter"/>, ordered by <paramref name="newestFirstBy"/> descending
    /// (ties by correlation id), and how many match in all. <paramref name="take"/> 0 only counts.
    /// </summary>
    Task<SagaPage<TSaga>> Page(Expression<Func<TSaga, bool>> filter, Expression<Func<TSaga, object>> newestFirstBy, int skip, int take,
        CancellationToken cancellationToken = default);

    bool IsDuplicateKey(Exception exception);
}

/// <summary>A page of saga instances and the number of instances the filter matched in all.</summary>
public sealed record SagaPage<TSaga>(IReadOnlyList<TSaga> Items, long Total);
