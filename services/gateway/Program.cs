using Joinery.Gateway;
using Joinery.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGatewayService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGateway();
app.Run();
