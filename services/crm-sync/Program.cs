using Joinery.CrmSync;
using Joinery.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCrmSyncService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
