// Swagger UI, served from static/vendor (no CDN); reads the live schema with the page's session.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("swagger-ui");
  if (!el || typeof SwaggerUIBundle === "undefined") return;
  SwaggerUIBundle({
    url: el.dataset.schemaUrl,
    domNode: el,
    deepLinking: true,
    supportedSubmitMethods: ["get"],
    requestInterceptor: function (req) { req.credentials = "same-origin"; return req; },
  });
});
