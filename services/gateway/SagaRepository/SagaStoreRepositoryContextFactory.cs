using MassTransit;
using MassTransit.Saga;

namespace Joinery.Gateway.SagaRepository;

public sealed class SagaStoreRepositoryContextFactory<TSaga>(
    ISagaStore<TSaga> store,
    ISagaConsumeContextFactory<ISagaStore<TSaga>, TSaga> factory)
    : ISagaRepositoryContextFactory<TSaga>, IQuerySagaRepositoryContextFactory<TSaga>, ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
{
    public void Probe(ProbeContext context) => context.Add("persistence", store.GetType().Name);

    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next) where T : class =>
        next.Send(new SagaStoreRepositoryContext<TSaga, T>(store, context, factory));

    public async Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class
    {
        var repositoryContext = new SagaStoreRepositoryContext<TSaga, T>(store, context, factory);
        var instances = await store.Query(query.FilterExpression, context.CancellationToken);
        await next.Send(new LoadedSagaRepositoryQueryContext<TSaga, T>(repositoryContext, instances));
    }

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new SagaStoreRepositoryContext<TSaga>(store, cancellationToken));

    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new SagaStoreRepositoryContext<TSaga>(store, cancellationToken));
}
