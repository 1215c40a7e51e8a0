using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Joinery.Gateway.Admin;

/// <summary>
/// The admins' sign-in: ASP.NET Core cookie authentication against the one configured <see cref="AdminCredential"/>,
/// and the authorization policy <see cref="Policy"/> that every admin endpoint requires. With no credential configured
/// every admin path (<c>/admin</c>, <c>/api/admin</c>) answers 404: the admin side is off, never open.
/// </summary>
public static class AdminAuthentication
{
    /// <summary>The policy every admin endpoint requires: <c>.RequireAuthorization(AdminAuthentication.Policy)</c>.</summary>
    public const string Policy = "JoineryAdmin";
    public const string Scheme = "JoineryAdmin";
    public const string Role = "joinery-admin";
    public const string CookieName = "joinery-admin";

    public static IHostApplicationBuilder AddAdminAuthentication(this IHostApplicationBuilder builder)
    {
        var credential = AdminCredential.From(builder.Configuration);
        builder.Services.AddSingleton(credential);

        builder.Services.AddAuthentication(Scheme)
            .AddCookie(Scheme, cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                // Strict: no other site can make an admin's browser send it, which is what protects the admin API's POSTs.
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.IsEssential = true;
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                cookie.SlidingExpiration = true;
                cookie.LoginPath = "/admin";
                cookie.Events = new CookieAuthenticationEvents
                {
                    // An API answers with a status, never with a redirect to a sign-in page.
                    OnRedirectToLogin = context => Status(context, StatusCodes.Status401Unauthorized),
                    OnRedirectToAccessDenied = context => Status(context, StatusCodes.Status403Forbidden),
                    // A session outlives neither the admin's removal nor a change of username.
                    OnValidatePrincipal = async context =>
                    {
                        var current = context.HttpContext.RequestServices.GetRequiredService<AdminCredential>();
                        if (!current.IsConfigured || context.Principal?.Identity?.Name != current.Username)
                        {
                            context.RejectPrincipal();
                            await context.HttpContext.SignOutAsync(Scheme);
                        }
                    },
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy
                .AddAuthenticationSchemes(Scheme)
                .RequireAuthenticatedUser()
                .RequireRole(Role));
        return builder;
    }

    static Task Status(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    public static ClaimsPrincipal Principal(string username) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, username), new Claim(ClaimTypes.Role, Role)], Scheme, ClaimTypes.Name, ClaimTypes.Role));

    public static bool IsAdminPath(PathString path) => path.StartsWithSegments("/admin") || path.StartsWithSegments("/api/admin");

    /// <summary>
    /// The gate (404 for every admin path while no admin is configured), then authentication and authorization, in
    /// that order, so that an unconfigured admin side looks absent rather than asking anyone to sign in.
    /// </summary>
    public static WebApplication UseAdminAuthentication(this WebApplication app)
    {
        var credential = app.Services.GetRequiredService<AdminCredential>();
        app.Use(async (context, next) =>
        {
            if (!credential.IsConfigured && IsAdminPath(context.Request.Path))
            {
                await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
