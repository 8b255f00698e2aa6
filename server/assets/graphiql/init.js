// Mounts GraphiQL for the Mooring admin API. Served by Mooring itself, like every other
// script on this page: the Content-Security-Policy allows nothing else to run here.
// The bearer token goes in the Headers tab; it is kept in memory only (not persisted).
// Until one is there, requests carry an empty "Bearer": the server answers the schema's
// introspection without a key (the Docs pane and autocomplete work at once) and nothing
// else, and an empty key is not counted as a failed sign-in.
(function () {
  // Styles set through the DOM: the policy allows no inline style markup.
  document.body.style.margin = "0";
  document.getElementById("graphiql").style.height = "100vh";
  var secure = window.location.protocol === "https:";
  var fetcher = GraphiQL.createFetcher({
    url: window.location.origin + "/graphql",
    // Subscriptions: the Headers tab is sent as the connection_init payload.
    subscriptionUrl: (secure ? "wss://" : "ws://") + window.location.host + "/graphql/ws",
  });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: "headers",
      defaultHeaders: '{\n  "Authorization": "Bearer "\n}',
      shouldPersistHeaders: false,
      defaultQuery:
        "# Paste the operator token or an API key after \"Bearer \" in the Headers tab\n" +
        "# below, then run. The Docs pane (top left) browses the schema.\n{ me { kind } }\n",
    })
  );
})();
