using Joinery.ServiceDefaults;
using Joinery.SlackInvite;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSlackInviteService();
builder.AddMessaging();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
