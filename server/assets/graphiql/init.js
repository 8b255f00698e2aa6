// Mounts GraphiQL for the Mooring admin API. Served by Mooring itself, like every other
// script on this page: the Content-Security-Policy allows nothing else to run here.
// The bearer token goes in the Headers tab; it is kept in memory only (not persisted).
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
      defaultHeaders: '{\n  "Authorization": "Bearer <operator token or API key>"\n}',
      shouldPersistHeaders: false,
      defaultQuery: "{ me { kind } }\n",
    })
  );
})();
