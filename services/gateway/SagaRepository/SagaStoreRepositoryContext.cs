using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace Joinery.Gateway.SagaRepository;

/// <summary>The repository as one message sees it: MassTransit's saga pipeline loads, inserts and saves through this.</summary>
public sealed class SagaStoreRepositoryContext<TSaga, TMessage>(
    ISagaStore<TSaga> store,
    ConsumeContext<TMessage> message,
    ISagaConsumeContextFactory<ISagaStore<TSaga>, TSaga> factory)
    : ConsumeContextScope<TMessage>(message), SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    readonly ConsumeContext<TMessage> _message = message;

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> context, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        factory.CreateSagaConsumeContext(store, context, instance, mode);

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        factory.CreateSagaConsumeContext(store, _message, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        try
        {
            await store.Insert(instance, CancellationToken);
        }
        catch (Exception ex) when (store.IsDuplicateKey(ex))
        {
            // Another message created it first; returning null tells MassTransit to load that one instead.
            return null!;
        }
        return await factory.CreateSagaConsumeContext(store, _message, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await store.Load(correlationId, CancellationToken);
        return instance is null
            ? null!
            : await factory.CreateSagaConsumeContext(store, _message, instance, SagaConsumeContextMode.Load);
    }

    // A duplicate key here (two first messages at once) throws, and the message retry then finds the winner's row.
    public Task Save(SagaConsumeContext<TSaga> context) => store.Insert(context.Saga, CancellationToken);

    public Task Update(SagaConsumeContext<TSaga> context)
    {
        context.Saga.Version++;
        return store.Update(context.Saga, CancellationToken);
    }

    public Task Delete(SagaConsumeContext<TSaga> context) => store.Delete(context.Saga, CancellationToken);

    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context) => Task.CompletedTask;
}

/// <summary>The repository outside a message: status look-ups by id and queries.</summary>
public sealed class SagaStoreRepositoryContext<TSaga>(ISagaStore<TSaga> store, CancellationToken cancellationToken)
    : BasePipeContext(cancellationToken), QuerySagaRepositoryContext<TSaga>, LoadSagaRepositoryContext<TSaga>
    where TSaga : class, ISagaVersion
{
    public Task<TSaga> Load(Guid correlationId) => store.Load(correlationId, CancellationToken)!;

    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken = default)
    {
        var instances = await store.Query(query.FilterExpression, cancellationToken);
        return new DefaultSagaRepositoryQueryContext<TSaga>(this, instances.Select(x => x.CorrelationId).ToList());
    }
}
