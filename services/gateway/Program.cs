using Joinery.Gateway;
using Joinery.ServiceDefaults;

// `hash-password`: prints a PBKDF2 hash of the password read from standard input, for Admin:PasswordHash.
if (args is ["hash-password", ..])
{
    Environment.ExitCode = Joinery.Gateway.Admin.AdminPassword.RunCommand();
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGatewayService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGateway();
app.Run();
