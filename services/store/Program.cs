using Joinery.ServiceDefaults;
using Joinery.Store;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStoreService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
