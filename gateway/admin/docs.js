// Starts swagger-ui on GET /openapi.json (gateway/admin/docs.html).
// validatorUrl null: swagger-ui would otherwise send the document to
// validator.swagger.io for a badge; the page stays on this gateway.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
