using RabbitMQ.Client;

namespace Joinery.Bench;

/// <summary>
/// Takes the saga (hosted by the gateway) off <c>SignupRequested</c> for the gateway-alone phase, and puts it back:
/// MassTransit binds the message's exchange to the endpoint's exchange of the same name as its queue. A policy
/// cannot do this, since RabbitMQ hands a message straight to a waiting consumer whatever the queue's length limit.
/// </summary>
public static class RabbitTopology
{
    public const string SignupRequestedExchange = "Joinery.Contracts:SignupRequested";
    public const string SagaExchange = "signup-state";

    public static Task UnbindSaga(Uri rabbit, CancellationToken ct) =>
        With(rabbit, ch => ch.ExchangeUnbindAsync(SagaExchange, SignupRequestedExchange, "", cancellationToken: ct), ct);

    public static Task RebindSaga(Uri rabbit, CancellationToken ct) =>
        With(rabbit, ch => ch.ExchangeBindAsync(SagaExchange, SignupRequestedExchange, "", cancellationToken: ct), ct);

    static async Task With(Uri rabbit, Func<IChannel, Task> action, CancellationToken ct)
    {
        var factory = new ConnectionFactory { Uri = rabbit, ClientProvidedName = "joinery-bench-topology" };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await action(channel);
        await channel.CloseAsync(ct);
        await connection.CloseAsync(ct);
    }
}
