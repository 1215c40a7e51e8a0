using Joinery.CrmSync;
using Joinery.Gateway;
using Joinery.ServiceDefaults;
using Joinery.SlackInvite;
using Joinery.Store;

// All four services in one process on the in-memory transport, SQLite under ./data: see appsettings.json.
var builder = WebApplication.CreateBuilder(args);
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
