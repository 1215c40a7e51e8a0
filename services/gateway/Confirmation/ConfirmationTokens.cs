using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// The tokens of the confirmation links: 256 random bits (unguessable), of which only a SHA-256 hash is stored on the
/// saga, so that whoever reads the saga store cannot confirm anyone. Any gateway replica verifies a token against the
/// shared saga store, with no key to share between them. A random token needs no slow hash: it cannot be guessed.
/// </summary>
public static class ConfirmationTokens
{
    /// <summary>How many mailed links stay valid at once (the first mail and up to two re-sends).</summary>
    public const int Kept = 3;

    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Adds the token's hash to the stored ones, dropping the oldest beyond <see cref="Kept"/>.</summary>
    public static string Remember(string? hashes, string token) =>
        string.Join(' ', Split(hashes).Append(Hash(token)).TakeLast(Kept));

    /// <summary>True when <paramref name="hash"/> is the hash of the newest token (the last mail asked for).</summary>
    public static bool IsNewest(string? hashes, string? hash) =>
        !string.IsNullOrEmpty(hash) && Split(hashes).LastOrDefault() == hash;

    /// <summary>True when <paramref name="token"/> is one of the mailed ones (compared in constant time).</summary>
    public static bool Matches(string? hashes, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
            return false;
        var given = Encoding.ASCII.GetBytes(Hash(token));
        var found = false;
        foreach (var stored in Split(hashes))
            found |= CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(stored));
        return found;
    }

    static IEnumerable<string> Split(string? hashes) =>
        (hashes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
