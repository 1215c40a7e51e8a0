using Joinery.CrmSync;
using Joinery.Gateway;
using Joinery.ServiceDefaults;
using Joinery.SlackInvite;
using Joinery.Store;

// All four services in one process on the in-memory transport, SQLite under ./data: see appsettings.json.
// Settings come from beside the binary; ./data is relative to where the command was run (see the csproj).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddStoreService();
builder.AddCrmSyncService();
builder.AddSlackInviteService();
builder.AddGatewayService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGateway();
app.Run();
