using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Joinery.Gateway.Admin;

/// <summary>
/// The one configured admin: <c>Admin:Username</c> with <c>Admin:PasswordHash</c> (a PBKDF2 hash made by
/// <c>dotnet run --project services/gateway -- hash-password</c>, see <see cref="AdminPassword"/>) or, for a
/// development machine, a plain <c>Admin:Password</c>. With no username or no password the admin pages are off.
/// </summary>
public sealed class AdminCredential
{
    public const string UsernameKey = "Admin:Username";
    public const string PasswordHashKey = "Admin:PasswordHash";
    public const string PasswordKey = "Admin:Password";

    readonly string? _passwordHash;
    readonly byte[]? _passwordDigest;

    public AdminCredential(string? username, string? passwordHash, string? password)
    {
        Username = string.IsNullOrWhiteSpace(username) ? null : username.Trim();
        if (!string.IsNullOrWhiteSpace(passwordHash))
        {
            if (!AdminPassword.IsWellFormed(passwordHash.Trim()))
                throw new InvalidOperationException(
                    $"{PasswordHashKey} is not a hash made by 'hash-password' (pbkdf2-sha256.<iterations>.<salt>.<key>).");
            _passwordHash = passwordHash.Trim();
        }
        else if (!string.IsNullOrEmpty(password))
        {
            _passwordDigest = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        }
    }

    public static AdminCredential From(IConfiguration configuration) =>
        new(configuration[UsernameKey], configuration[PasswordHashKey], configuration[PasswordKey]);

    public string? Username { get; }

    /// <summary>False means no admin: the admin page and the admin API answer 404.</summary>
    public bool IsConfigured => Username is not null && (_passwordHash is not null || _passwordDigest is not null);

    /// <summary>Checks both in constant time, and always does the password's work, so timing tells nothing.</summary>
    public bool Verify(string? username, string? password)
    {
        if (!IsConfigured || username is null || password is null)
            return false;
        var passwordMatches = _passwordHash is not null
            ? AdminPassword.Verify(password, _passwordHash)
            : CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(password)), _passwordDigest);
        var usernameMatches = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(username.Trim())), SHA256.HashData(Encoding.UTF8.GetBytes(Username!)));
        return passwordMatches & usernameMatches;
    }
}

/// <summary>
/// PBKDF2-SHA256 password hashes as <c>pbkdf2-sha256.{iterations}.{salt}.{key}</c>, salt and key in base64url:
/// no character that a shell, YAML or docker compose's interpolation would take for something else.
/// </summary>
public static class AdminPassword
{
    const string Prefix = "pbkdf2-sha256";
    public const int DefaultIterations = 600_000;
    const int SaltBytes = 16;
    const int KeyBytes = 32;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var key = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        return $"{Prefix}.{iterations}.{Base64Url.EncodeToString(salt)}.{Base64Url.EncodeToString(key)}";
    }

    public static bool IsWellFormed(string encoded) => TryParse(encoded, out _, out _, out _);

    public static bool Verify(string password, string encoded)
    {
        if (!TryParse(encoded, out var iterations, out var salt, out var expected))
            return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    static bool TryParse(string encoded, out int iterations, out byte[] salt, out byte[] key)
    {
        iterations = 0;
        salt = key = [];
        var parts = encoded.Split('.');
        if (parts.Length != 4 || parts[0] != Prefix || !int.TryParse(parts[1], out iterations) || iterations < 10_000)
            return false;
        try
        {
            salt = Base64Url.DecodeFromChars(parts[2]);
            key = Base64Url.DecodeFromChars(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        return salt.Length >= 8 && key.Length >= 16;
    }

    /// <summary>
    /// <c>hash-password</c>: reads the password (first line of standard input; typed without echo at a terminal) and
    /// prints the value for <c>Admin:PasswordHash</c>. Returns the process exit code.
    /// </summary>
    public static int RunCommand()
    {
        string? password;
        if (Console.IsInputRedirected)
        {
            password = Console.In.ReadLine();
        }
        else
        {
            Console.Error.Write("Admin password: ");
            var typed = new StringBuilder();
            for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
            {
                if (key.Key == ConsoleKey.Backspace && typed.Length > 0)
                    typed.Length--;
                else if (!char.IsControl(key.KeyChar))
                    typed.Append(key.KeyChar);
            }
            Console.Error.WriteLine();
            password = typed.ToString();
        }
        if (string.IsNullOrEmpty(password))
        {
            Console.Error.WriteLine("No password given: nothing to hash.");
            return 1;
        }
        Console.Out.WriteLine(Hash(password));
        return 0;
    }
}
