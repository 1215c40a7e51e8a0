using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Joinery.FakeApis;

/// <summary>
/// A minimal SMTP sink (the RFC 5321 subset a client needs to hand over a mail: EHLO/HELO, AUTH PLAIN/LOGIN
/// accepting any credentials, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT; no TLS). Each mail is parsed with
/// MimeKit and kept in <see cref="FakeState.Mails"/> (<c>GET /_fake/mails</c>). A failure configured for
/// <c>api: "smtp"</c> refuses that recipient with its status (550 by default, a 4xx is temporary).
/// </summary>
public sealed class FakeSmtpServer(FakeState state, IOptions<FakeApiOptions> options, TimeProvider clock, ILogger<FakeSmtpServer> logger)
    : BackgroundService
{
    const int MaxMessageBytes = 1024 * 1024;

    readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TcpListener? _listener;

    /// <summary>The bound port, once listening.</summary>
    public Task<int> Port => _port.Task;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _listener = new TcpListener(IPAddress.Loopback, options.Value.SmtpPort);
            _listener.Start();
        }
        catch (SocketException ex)
        {
            // The HTTP fakes still serve; only the invite-link mail has nowhere to go, and says why.
            logger.LogError("SMTP sink: cannot listen on 127.0.0.1:{Port} ({Error}); set FakeApis:SmtpPort", options.Value.SmtpPort, ex.Message);
            _listener = null;
            _port.TrySetException(new InvalidOperationException($"The SMTP sink could not listen on port {options.Value.SmtpPort}: {ex.Message}", ex));
            return Task.CompletedTask;
        }
        _port.TrySetResult(((IPEndPoint)_listener.LocalEndpoint).Port);
        logger.LogInformation("SMTP sink listening on 127.0.0.1:{Port}", ((IPEndPoint)_listener.LocalEndpoint).Port);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is not { } listener)
            return;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stoppingToken);
                _ = Task.Run(() => Serve(client, stoppingToken), stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            listener.Stop();
        }
    }

    async Task Serve(TcpClient client, CancellationToken stoppingToken)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        try
        {
            var stream = client.GetStream();
            var reader = new LineReader(stream);
            async Task Reply(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), cancellationToken);

            await Reply("220 fake-smtp.joinery.test ESMTP ready");
            string? from = null;
            string? user = null;
            var to = new List<string>();
            while (true)
            {
                var line = await reader.ReadLine(cancellationToken);
                if (line is null)
                    return;
                var (verb, argument) = Split(line);
                switch (verb)
                {
                    case "EHLO":
                        await Reply("250-fake-smtp.joinery.test");
                        await Reply("250-8BITMIME");
                        await Reply("250-SMTPUTF8");
                        await Reply($"250-SIZE {MaxMessageBytes}");
                        await Reply("250 AUTH PLAIN LOGIN");
                        break;
                    case "HELO":
                        await Reply("250 fake-smtp.joinery.test");
                        break;
                    case "AUTH":
                        user = await Authenticate(argument, reader, Reply, cancellationToken);
                        await Reply(user is null ? "501 5.5.4 Malformed AUTH" : "235 2.7.0 Authentication successful");
                        break;
                    case "MAIL":
                        from = Address(argument);
                        to.Clear();
                        await Reply("250 2.1.0 OK");
                        break;
                    case "RCPT":
                        var recipient = Address(argument);
                        if (from is null)
                            await Reply("503 5.5.1 MAIL first");
                        else if (recipient is null)
                            await Reply("501 5.1.3 Bad recipient address");
                        else if (state.FindFailure(FakeApiNames.Smtp, recipient) is { } failure)
                        {
                            state.Requests.Add(state.Requests.Arrive(), new FakeRequest(FakeApiNames.Smtp, "RCPT", "smtp", recipient, failure.Status, failure.Error));
                            await Reply($"{failure.Status} {(failure.Status >= 500 ? "5" : "4")}.1.1 {failure.Error}");
                        }
                        else
                        {
                            to.Add(recipient);
                            await Reply("250 2.1.5 OK");
                        }
                        break;
                    case "DATA":
                        if (to.Count == 0)
                        {
                            await Reply("554 5.5.1 No valid recipients");
                            break;
                        }
                        await Reply("354 End data with <CR><LF>.<CR><LF>");
                        var data = await reader.ReadData(MaxMessageBytes, cancellationToken);
                        if (data is null)
                        {
                            await Reply("552 5.3.4 Message too big");
                            break;
                        }
                        Keep(from, to, user, data);
                        await Reply("250 2.0.0 OK queued");
                        from = null;
                        to.Clear();
                        break;
                    case "RSET":
                        from = null;
                        to.Clear();
                        await Reply("250 2.0.0 OK");
                        break;
                    case "NOOP":
                        await Reply("250 2.0.0 OK");
                        break;
                    case "QUIT":
                        await Reply("221 2.0.0 Bye");
                        return;
                    default:
                        await Reply("502 5.5.2 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or took too long: nothing to keep.
        }
    }

    void Keep(string? from, List<string> to, string? user, byte[] data)
    {
        string? subject = null;
        var text = "";
        try
        {
            using var memory = new MemoryStream(data);
            var message = MimeMessage.Load(memory);
            subject = message.Subject;
            text = message.TextBody ?? message.HtmlBody ?? "";
        }
        catch (FormatException)
        {
            text = Encoding.UTF8.GetString(data);
        }
        foreach (var recipient in to)
            state.Requests.Add(state.Requests.Arrive(), new FakeRequest(FakeApiNames.Smtp, "DATA", "smtp", recipient, 250, null));
        state.AddMail(new FakeMail(from, [.. to], subject, text, user, clock.GetUtcNow()));
    }

    static async Task<string?> Authenticate(string argument, LineReader reader, Func<string, Task> reply, CancellationToken cancellationToken)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            return null;
        switch (parts[0].ToUpperInvariant())
        {
            case "PLAIN":
                var response = parts.Length > 1 ? parts[1] : await Challenge("", reader, reply, cancellationToken);
                var decoded = Decode(response);
                // authzid \0 authcid \0 password
                var fields = decoded?.Split('\0');
                return fields is { Length: 3 } ? fields[1] : null;
            case "LOGIN":
                var name = Decode(parts.Length > 1 ? parts[1] : await Challenge("VXNlcm5hbWU6", reader, reply, cancellationToken));
                await Challenge("UGFzc3dvcmQ6", reader, reply, cancellationToken);
                return name;
            default:
                return null;
        }
    }

    static async Task<string> Challenge(string prompt, LineReader reader, Func<string, Task> reply, CancellationToken cancellationToken)
    {
        await reply("334 " + prompt);
        return await reader.ReadLine(cancellationToken) ?? "";
    }

    static string? Decode(string base64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64.Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    static (string Verb, string Argument) Split(string line)
    {
        var space = line.IndexOf(' ');
        return space < 0 ? (line.ToUpperInvariant(), "") : (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
    }

    /// <summary>The address in <c>FROM:&lt;a@b&gt; SIZE=...</c> or <c>TO:&lt;a@b&gt;</c>.</summary>
    static string? Address(string argument)
    {
        var open = argument.IndexOf('<');
        var close = argument.IndexOf('>', open + 1);
        if (open < 0 || close < 0)
            return null;
        var address = argument[(open + 1)..close].Trim();
        return address.Length == 0 ? "" : address;
    }

    /// <summary>Reads CRLF-terminated lines and the DATA section from the raw stream, bounded in size.</summary>
    sealed class LineReader(Stream stream)
    {
        readonly byte[] _buffer = new byte[8192];
        int _start;
        int _end;

        public async Task<string?> ReadLine(CancellationToken cancellationToken)
        {
            var bytes = await ReadRawLine(cancellationToken);
            return bytes is null ? null : Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Lines up to the lone dot, dot-stuffing removed, CRLF between lines; null when larger than the limit.</summary>
        public async Task<byte[]?> ReadData(int limit, CancellationToken cancellationToken)
        {
            using var data = new MemoryStream();
            var tooBig = false;
            while (true)
            {
                var line = await ReadRawLine(cancellationToken) ?? throw new IOException("Connection closed during DATA");
                if (line is [(byte)'.'])
                    return tooBig ? null : data.ToArray();
                var start = line is [(byte)'.', ..] ? 1 : 0;
                if (data.Length + line.Length > limit)
                    tooBig = true;
                if (!tooBig)
                {
                    data.Write(line, start, line.Length - start);
                    data.Write("\r\n"u8);
                }
            }
        }

        async Task<byte[]?> ReadRawLine(CancellationToken cancellationToken)
        {
            using var line = new MemoryStream();
            while (true)
            {
                for (var i = _start; i < _end; i++)
                {
                    if (_buffer[i] != (byte)'\n')
                        continue;
                    line.Write(_buffer, _start, i - _start);
                    _start = i + 1;
                    var bytes = line.ToArray();
                    return bytes is [.., (byte)'\r'] ? bytes[..^1] : bytes;
                }
                line.Write(_buffer, _start, _end - _start);
                if (line.Length > MaxMessageBytes)
                    throw new IOException("Line too long");
                _start = _end = 0;
                var read = await stream.ReadAsync(_buffer, cancellationToken);
                if (read == 0)
                    return null;
                _end = read;
            }
        }
    }
}
