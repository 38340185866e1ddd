// /api/docs: Swagger UI from code4's own files (no CDN), reading /api/openapi.json with the
// page's session. "Try it out" sends the session's CSRF token, as every change from a browser must.
(async () => {
  const me = await fetch("/api/me", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : {}));
  SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    validatorUrl: null, // the default sends the document to validator.swagger.io
    requestInterceptor: (request) => {
      if (me.csrf_token) request.headers["X-CSRF-Token"] = me.csrf_token;
      return request;
    },
  });
})();
