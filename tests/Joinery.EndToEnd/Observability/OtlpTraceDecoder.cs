using Google.Protobuf;

namespace Joinery.EndToEnd.Observability;

/// <summary>One span as the services exported it, with the service name of the resource it came from.</summary>
public sealed record ReceivedSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    int Kind,
    string Service,
    string Scope,
    IReadOnlyDictionary<string, string> Attributes,
    int StatusCode,
    string? StatusMessage)
{
    public const int KindServer = 2;
    public const int KindClient = 3;
    public const int KindProducer = 4;
    public const int KindConsumer = 5;
    public const int StatusError = 2;

    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;

    public override string ToString() =>
        $"{Service}: {Name} [{SpanId} <- {ParentSpanId ?? "root"}]{(StatusCode == StatusError ? $" ERROR {StatusMessage}" : "")}";
}

/// <summary>
/// Reads the few fields the tests need from an OTLP <c>ExportTraceServiceRequest</c> (opentelemetry/proto/collector/trace/v1),
/// field numbers as in the .proto files; everything else is skipped. Attribute values are kept as text.
/// </summary>
public static class OtlpTraceDecoder
{
    public static IReadOnlyList<ReceivedSpan> Decode(byte[] body)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Repeated(body, 1))               // ExportTraceServiceRequest.resource_spans
        {
            var service = "";
            var scopes = new List<byte[]>();
            Read(resourceSpans, (field, input) =>
            {
                switch (field)
                {
                    case 1:                                            // ResourceSpans.resource
                        var resource = Attributes(Repeated(input.ReadBytes().ToByteArray(), 1)); // Resource.attributes
                        service = resource.GetValueOrDefault("service.name", "");
                        return true;
                    case 2:                                            // ResourceSpans.scope_spans
                        scopes.Add(input.ReadBytes().ToByteArray());
                        return true;
                    default:
                        return false;
                }
            });
            foreach (var scopeSpans in scopes)
            {
                var scopeName = "";
                var rawSpans = new List<byte[]>();
                Read(scopeSpans, (field, input) =>
                {
                    switch (field)
                    {
                        case 1:                                        // ScopeSpans.scope
                            Read(input.ReadBytes().ToByteArray(), (f, i) =>
                            {
                                if (f != 1) return false;              // InstrumentationScope.name
                                scopeName = i.ReadString();
                                return true;
                            });
                            return true;
                        case 2:                                        // ScopeSpans.spans
                            rawSpans.Add(input.ReadBytes().ToByteArray());
                            return true;
                        default:
                            return false;
                    }
                });
                spans.AddRange(rawSpans.Select(raw => Span(raw, service, scopeName)));
            }
        }
        return spans;
    }

    static ReceivedSpan Span(byte[] raw, string service, string scope)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null, statusMessage = null;
        int kind = 0, statusCode = 0;
        var attributes = new List<byte[]>();
        Read(raw, (field, input) =>
        {
            switch (field)
            {
                case 1: traceId = Hex(input.ReadBytes()); return true;        // Span.trace_id
                case 2: spanId = Hex(input.ReadBytes()); return true;         // Span.span_id
                case 4:                                                       // Span.parent_span_id (empty for a root)
                    var p = input.ReadBytes();
                    parent = p.Length == 0 ? null : Hex(p);
                    return true;
                case 5: name = input.ReadString(); return true;               // Span.name
                case 6: kind = input.ReadEnum(); return true;                 // Span.kind
                case 9: attributes.Add(input.ReadBytes().ToByteArray()); return true; // Span.attributes
                case 15:                                                      // Span.status
                    Read(input.ReadBytes().ToByteArray(), (f, i) =>
                    {
                        switch (f)
                        {
                            case 2: statusMessage = i.ReadString(); return true; // Status.message
                            case 3: statusCode = i.ReadEnum(); return true;      // Status.code
                            default: return false;
                        }
                    });
                    return true;
                default:
                    return false;
            }
        });
        return new ReceivedSpan(traceId, spanId, parent, name, kind, service, scope, Attributes(attributes), statusCode, statusMessage);
    }

    /// <summary>KeyValue messages (key = 1, value = 2: AnyValue) to a dictionary of their scalar values as text.</summary>
    static Dictionary<string, string> Attributes(IEnumerable<byte[]> keyValues)
    {
        var result = new Dictionary<string, string>();
        foreach (var kv in keyValues)
        {
            string key = "", value = "";
            Read(kv, (field, input) =>
            {
                switch (field)
                {
                    case 1: key = input.ReadString(); return true;
                    case 2: value = AnyValue(input.ReadBytes().ToByteArray()); return true;
                    default: return false;
                }
            });
            result[key] = value;
        }
        return result;
    }

    static string AnyValue(byte[] raw)
    {
        var value = "";
        Read(raw, (field, input) =>
        {
            switch (field)
            {
                case 1: value = input.ReadString(); return true;                          // string_value
                case 2: value = input.ReadBool() ? "true" : "false"; return true;         // bool_value
                case 3: value = input.ReadInt64().ToString(); return true;                // int_value
                case 4: value = input.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture); return true; // double_value
                default: return false;                                                   // arrays, maps, bytes: not needed
            }
        });
        return value;
    }

    static List<byte[]> Repeated(byte[] message, int fieldNumber)
    {
        var items = new List<byte[]>();
        Read(message, (field, input) =>
        {
            if (field != fieldNumber)
                return false;
            items.Add(input.ReadBytes().ToByteArray());
            return true;
        });
        return items;
    }

    /// <summary>Walks a message's fields; <paramref name="handle"/> reads the ones it knows and returns false to skip the rest.</summary>
    static void Read(byte[] message, Func<int, CodedInputStream, bool> handle)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (!handle(WireFormat.GetTagFieldNumber(tag), input))
                input.SkipLastField();
        }
    }

    static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);
}
