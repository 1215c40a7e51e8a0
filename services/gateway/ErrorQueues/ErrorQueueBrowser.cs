using System.Text;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.ServiceDefaults;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Joinery.Gateway.ErrorQueues;

/// <summary>One message in a consumer's <c>_error</c> queue, as the admin API lists it.</summary>
public sealed record ErrorMessageView(
    string Queue,
    string ErrorQueue,
    string? MessageId,
    string? MessageType,
    Guid? SignupId,
    string? Reason,
    string? ExceptionType,
    string? FaultedAt,
    string? ConsumerType);

/// <summary>What a re-send did: how many went back, and how many were left where they were (not matched, or failed).</summary>
public sealed record ResendResult(string Queue, int Resent, int Left);

/// <summary>
/// Reads and empties the consumers' <c>_error</c> queues (where MassTransit moves a message whose consumer gave up)
/// with plain AMQP: <c>basic.get</c> without auto-ack, so listing takes nothing away (unacknowledged messages go back
/// to their queue when the channel closes). A re-send publishes the message, body and properties unchanged but for
/// MassTransit's fault headers, to its original queue through the default exchange, <c>mandatory</c>, on a channel
/// with publisher confirms; only once the broker confirmed it is the copy in <c>_error</c> acknowledged (removed).
/// A crash in between leaves the message in both places: consumers are idempotent, so twice is harmless, never lost.
/// </summary>
public sealed class ErrorQueueBrowser(IConfiguration configuration, ILogger<ErrorQueueBrowser> logger)
{
    public const string ErrorSuffix = "_error";

    /// <summary>The queues Joinery's consumers read (the saga's included); their error queues are these plus <see cref="ErrorSuffix"/>.</summary>
    public static readonly string[] Queues =
    [
        QueueNames.StoreSignup, QueueNames.MarkSignupFailed, QueueNames.ErasePerson, QueueNames.SyncContact,
        QueueNames.DeleteContact, QueueNames.InviteToSlack, QueueNames.SignupSaga,
    ];

    /// <summary>MassTransit's headers describing the fault; dropped on re-send so that a new failure writes its own.</summary>
    static readonly string[] FaultHeaders =
    [
        MassTransit.MessageHeaders.Reason, MassTransit.MessageHeaders.FaultMessage, MassTransit.MessageHeaders.FaultExceptionType,
        MassTransit.MessageHeaders.FaultStackTrace, MassTransit.MessageHeaders.FaultTimestamp, MassTransit.MessageHeaders.FaultInputAddress,
        MassTransit.MessageHeaders.FaultConsumerType, MassTransit.MessageHeaders.FaultMessageType, MassTransit.MessageHeaders.FaultRetryCount,
        MassTransit.MessageHeaders.FaultRedeliveryCount, "MT-Host-MachineName", "MT-Host-ProcessName", "MT-Host-ProcessId",
        "MT-Host-Assembly", "MT-Host-AssemblyVersion", "MT-Host-MassTransitVersion", "MT-Host-FrameworkVersion",
        "MT-Host-OperatingSystemVersion",
    ];

    /// <summary>False on the in-memory transport (standalone): there are no error queues to read.</summary>
    public bool Available => MessagingOptions.From(configuration).Transport == MessagingTransport.RabbitMq;

    public static bool IsKnownQueue(string queue) => Queues.Contains(queue, StringComparer.Ordinal);

    /// <summary>Up to <paramref name="take"/> messages of each queue's error queue (or of one queue), oldest first.</summary>
    public async Task<IReadOnlyList<ErrorMessageView>> List(string? queue, int take, CancellationToken cancellationToken)
    {
        await using var connection = await Connect(cancellationToken);
        var items = new List<ErrorMessageView>();
        foreach (var name in queue is null ? Queues : [queue])
        {
            // A channel per queue: a passive declare of a queue that does not exist closes the channel.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            if (await CountOf(channel, name + ErrorSuffix, cancellationToken) is not { } count)
                continue;
            for (var i = 0; i < Math.Min(count, (uint)take); i++)
            {
                var message = await channel.BasicGetAsync(name + ErrorSuffix, autoAck: false, cancellationToken);
                if (message is null)
                    break;
                items.Add(Describe(name, message));
            }
            // Closing the channel returns every message it got to the error queue, in its place.
            await channel.CloseAsync(cancellationToken);
        }
        return items;
    }

    /// <summary>
    /// Sends the message with <paramref name="messageId"/> (or, when null, every message) of <paramref name="queue"/>'s
    /// error queue back to <paramref name="queue"/>. Messages that arrive in the error queue meanwhile are left for the
    /// next call, so a message that fails again at once cannot keep this going round.
    /// </summary>
    public async Task<ResendResult> Resend(string queue, string? messageId, CancellationToken cancellationToken)
    {
        if (!IsKnownQueue(queue))
            throw new ArgumentException($"not one of Joinery's queues: {queue}", nameof(queue));
        await using var connection = await Connect(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var errorQueue = queue + ErrorSuffix;
        if (await CountOf(channel, errorQueue, cancellationToken) is not { } count)
            return new ResendResult(queue, 0, 0);

        int resent = 0, left = 0;
        for (var i = 0; i < count; i++)
        {
            var message = await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken);
            if (message is null)
                break;
            if (messageId is not null && message.BasicProperties.MessageId != messageId)
            {
                left++; // stays unacknowledged until the channel closes, then goes back
                continue;
            }

            var properties = new BasicProperties(message.BasicProperties);
            if (properties.Headers is { } headers)
            {
                var kept = new Dictionary<string, object?>(headers);
                foreach (var header in FaultHeaders)
                    kept.Remove(header);
                properties.Headers = kept;
            }
            try
            {
                // Awaits the broker's confirm; a nack or an unroutable (returned) message throws.
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, message.Body, cancellationToken);
            }
            catch (PublishException ex)
            {
                logger.LogWarning(ex, "Re-sending message {MessageId} from {ErrorQueue} to {Queue} was not confirmed; it stays in {ErrorQueue}",
                    message.BasicProperties.MessageId, errorQueue, queue, errorQueue);
                left++;
                break; // the rest stay where they are too
            }
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            resent++;
            logger.LogInformation("Re-sent message {MessageId} from {ErrorQueue} to {Queue}", message.BasicProperties.MessageId, errorQueue, queue);
            if (messageId is not null)
                break;
        }
        await channel.CloseAsync(cancellationToken);
        return new ResendResult(queue, resent, left);
    }

    async Task<IConnection> Connect(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = MessagingOptions.From(configuration).RabbitMqUri, ClientProvidedName = "joinery-gateway-error-queues" };
        return await factory.CreateConnectionAsync(cancellationToken);
    }

    /// <summary>How many messages the queue holds, or null when it does not exist (no message ever failed there).</summary>
    static async Task<uint?> CountOf(IChannel channel, string queue, CancellationToken cancellationToken)
    {
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, cancellationToken)).MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    static ErrorMessageView Describe(string queue, BasicGetResult message)
    {
        var headers = message.BasicProperties.Headers;
        string? Header(string name) => headers is not null && headers.TryGetValue(name, out var value) ? Text(value) : null;
        var (messageType, signupId) = ReadEnvelope(message.Body);
        return new ErrorMessageView(queue, queue + ErrorSuffix, message.BasicProperties.MessageId, messageType, signupId,
            Header(MassTransit.MessageHeaders.FaultMessage) ?? Header(MassTransit.MessageHeaders.Reason),
            Header(MassTransit.MessageHeaders.FaultExceptionType), Header(MassTransit.MessageHeaders.FaultTimestamp),
            Header(MassTransit.MessageHeaders.FaultConsumerType));
    }

    static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        _ => value.ToString(),
    };

    /// <summary>The message type (MassTransit's first <c>urn:message:</c> name) and the signup id, from a JSON envelope; nulls if it is not one.</summary>
    public static (string? MessageType, Guid? SignupId) ReadEnvelope(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, null);
            string? type = null;
            if (root.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
                type = types[0].GetString()?.Replace("urn:message:", "", StringComparison.Ordinal);
            Guid? id = null;
            if (root.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.Object)
            {
                // A Fault<T> carries the faulted message inside its own "message".
                if (inner.TryGetProperty("signupId", out var direct) && direct.ValueKind == JsonValueKind.String && direct.TryGetGuid(out var g))
                    id = g;
                else if (inner.TryGetProperty("message", out var nested) && nested.ValueKind == JsonValueKind.Object
                         && nested.TryGetProperty("signupId", out var n) && n.ValueKind == JsonValueKind.String && n.TryGetGuid(out var g2))
                    id = g2;
            }
            return (type, id);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}
