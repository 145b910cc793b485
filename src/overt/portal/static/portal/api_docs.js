// Swagger UI for the instance's own schema; no validator badge (it would call out).
const root = document.getElementById("swagger-ui");
if (root && window.SwaggerUIBundle) {
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: false,
    docExpansion: "none",
    defaultModelsExpandDepth: -1,
    tryItOutEnabled: false,
  });
}
