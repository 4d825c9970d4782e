%% TLS: the agent over HTTPS (certificate and key from files), client
%% certificates when tls_cacertfile is set, announcements to an https://
%% controller verified against announce_cacertfile, and clear start errors.
-module(drover_agent_tls_tests).
-include_lib("eunit/include/eunit.hrl").
-include_lib("public_key/include/public_key.hrl").

-define(TOKEN, <<"s3cret">>).
%% The name the controller checks (config admin.tls.serverName).
-define(SERVER_NAME, "hello.drover.internal").

tls_test_() ->
    {setup, fun certs/0, fun cleanup/1,
     fun(Certs) ->
             {inorder,
              [{"serves HTTPS with the certificate and key", fun() -> https(Certs) end},
               {"a plain HTTP client gets no answer on the TLS port", fun() -> plain_refused(Certs) end},
               {"a client certificate is required with tls_cacertfile", fun() -> client_certs(Certs) end},
               {"announces over https, verifying the controller's certificate", fun() -> announce(Certs) end},
               {"an announcement to a controller with an unknown CA fails", fun() -> announce_bad_ca(Certs) end},
               {"wrong TLS settings fail the start with the reason", fun() -> bad_settings(Certs) end}]}
     end}.

%%% Certificates

%% A server chain whose leaf names SERVER_NAME and 127.0.0.1, and a
%% client chain, each with its own root CA, written as PEM files:
%% #{server := #{cert, key, ca}, client := ...}, ca being the root that
%% signed that side's certificate.
certs() ->
    {ok, _} = application:ensure_all_started(ssl),
    Dir = filename:join(os:getenv("TMPDIR", "/tmp"),
                        "drover_agent_tls_" ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_path(Dir),
    SAN = #'Extension'{extnID = ?'id-ce-subjectAltName', critical = false,
                       extnValue = [{dNSName, ?SERVER_NAME}, {iPAddress, <<127, 0, 0, 1>>}]},
    Key = {key, {namedCurve, secp256r1}},
    #{server_config := S, client_config := C} =
        public_key:pkix_test_data(#{server_chain => #{root => [Key], peer => [Key, {extensions, [SAN]}]},
                                    client_chain => #{root => [Key], peer => [Key]}}),
    Roots = lists:usort(proplists:get_value(cacerts, S) ++ proplists:get_value(cacerts, C)),
    Write = fun(Name, Entries) ->
                    F = filename:join(Dir, Name),
                    ok = file:write_file(F, public_key:pem_encode(Entries)),
                    F
            end,
    Files = fun(Prefix, Opts) ->
                    Cert = proplists:get_value(cert, Opts),
                    {KeyType, KeyDer} = proplists:get_value(key, Opts),
                    [Root] = [R || R <- Roots, public_key:pkix_is_issuer(Cert, R)],
                    #{cert => Write(Prefix ++ ".pem", [{'Certificate', Cert, not_encrypted}]),
                      key => Write(Prefix ++ "-key.pem", [{KeyType, KeyDer, not_encrypted}]),
                      ca => Write(Prefix ++ "-ca.pem", [{'Certificate', Root, not_encrypted}])}
            end,
    #{dir => Dir, server => Files("server", S), client => Files("client", C)}.

cleanup(#{dir := Dir}) ->
    drover_agent_test_client:stop_agent(),
    _ = file:del_dir_r(Dir),
    ok.

start(Opts) ->
    drover_agent_test_client:stop_agent(),
    drover_agent_test_client:start_agent(Opts#{token => ?TOKEN}).

%%% Tests

https(#{server := Srv}) ->
    Port = start(#{tls_certfile => maps:get(cert, Srv), tls_keyfile => maps:get(key, Srv)}),
    Verify = [{cacertfile, maps:get(ca, Srv)}, {verify, verify_peer},
              {server_name_indication, ?SERVER_NAME}],
    ?assertMatch({200, #{<<"status">> := <<"ok">>}}, get(Port, "/v1/health", Verify)),
    ?assertMatch({200, #{<<"revision">> := _}}, get(Port, "/v1/status", Verify)),
    %% The certificate names the server: another name is refused.
    Other = lists:keyreplace(server_name_indication, 1, Verify,
                             {server_name_indication, "other.drover.internal"}),
    ?assertMatch({error, _}, get(Port, "/v1/health", Other)).

plain_refused(#{server := Srv}) ->
    Port = start(#{tls_certfile => maps:get(cert, Srv), tls_keyfile => maps:get(key, Srv)}),
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {active, false}]),
    ok = gen_tcp:send(S, <<"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n">>),
    R = gen_tcp:recv(S, 0, 5000),
    gen_tcp:close(S),
    ?assertNotMatch({ok, <<"HTTP/1.1 200", _/binary>>}, R).

client_certs(#{server := Srv, client := Cli}) ->
    Port = start(#{tls_certfile => maps:get(cert, Srv), tls_keyfile => maps:get(key, Srv),
                   tls_cacertfile => maps:get(ca, Cli)}),
    Verify = [{cacertfile, maps:get(ca, Srv)}, {verify, verify_peer},
              {server_name_indication, ?SERVER_NAME}],
    ?assertMatch({error, _}, get(Port, "/v1/health", Verify)),
    Mine = [{certfile, maps:get(cert, Cli)}, {keyfile, maps:get(key, Cli)} | Verify],
    ?assertMatch({200, _}, get(Port, "/v1/health", Mine)),
    %% A certificate from another CA (the server's own) is refused too.
    Other = [{certfile, maps:get(cert, Srv)}, {keyfile, maps:get(key, Srv)} | Verify],
    ?assertMatch({error, _}, get(Port, "/v1/health", Other)).

%% The fake controller serves the "server" certificate (127.0.0.1 in its
%% SAN); the agent trusts the server chain's root.
announce(#{server := Srv}) ->
    {CtlPort, Ctl} = controller(Srv),
    _ = start(#{announce_url => "https://127.0.0.1:" ++ integer_to_list(CtlPort),
                announce_token => <<"ann">>, announce_cacertfile => maps:get(ca, Srv)}),
    Got = receive {announced, Ctl, Body} -> Body after 10000 -> timeout end,
    ?assertMatch({ok, #{<<"event">> := <<"up">>}}, drover_agent_json:decode(Got)),
    exit(Ctl, kill).

announce_bad_ca(#{server := Srv, client := Cli}) ->
    {CtlPort, Ctl} = controller(Srv),
    Opts = drover_agent:normalize_options(#{announce_url => "https://127.0.0.1:" ++ integer_to_list(CtlPort),
                                            announce_cacertfile => maps:get(ca, Cli)}, #{}),
    ?assertMatch({error, _}, drover_agent_announce:announce(up, Opts)),
    ?assertEqual(none, receive {announced, Ctl, _} -> got after 500 -> none end),
    exit(Ctl, kill).

bad_settings(#{server := Srv, dir := Dir}) ->
    drover_agent_test_client:stop_agent(),
    Missing = filename:join(Dir, "missing.pem"),
    Start = fun(Opts) ->
                    process_flag(trap_exit, true),
                    R = drover_agent:start_link(Opts#{port => 0, ip => "127.0.0.1", token => ?TOKEN}),
                    receive {'EXIT', _, _} -> ok after 100 -> ok end,
                    process_flag(trap_exit, false),
                    R
            end,
    Cases = [{#{tls_certfile => Missing, tls_keyfile => maps:get(key, Srv)}, {tls_certfile, Missing, enoent}},
             {#{tls_certfile => maps:get(key, Srv), tls_keyfile => maps:get(key, Srv)}, tls_certfile},
             {#{tls_certfile => maps:get(cert, Srv), tls_keyfile => maps:get(cert, Srv)}, tls_keyfile},
             {#{tls_certfile => maps:get(cert, Srv)}, tls},
             {#{tls_cacertfile => maps:get(ca, Srv)}, tls}],
    %% The refused starts log crash reports: keep them out of the test output.
    #{level := Level} = logger:get_primary_config(),
    logger:set_primary_config(level, none),
    Results = [{Want, Start(Opts)} || {Opts, Want} <- Cases],
    logger:set_primary_config(level, Level),
    [?assert(has_reason(Want, R)) || {Want, R} <- Results].

%% The listener's reason appears in the supervisor's start error.
has_reason(Want, {error, Reason}) -> contains(Want, Reason);
has_reason(_, _) -> false.

contains(Want, Want) -> true;
contains(Want, T) when is_tuple(T) andalso element(1, T) =:= Want -> true;
contains(Want, T) when is_tuple(T) -> lists:any(fun(E) -> contains(Want, E) end, tuple_to_list(T));
contains(Want, L) when is_list(L) -> lists:any(fun(E) -> contains(Want, E) end, L);
contains(_, _) -> false.

%%% Helpers

%% One HTTPS request: {Status, Json} or {error, Reason} when the handshake
%% fails.
get(Port, Path, TlsOpts) ->
    case ssl:connect({127, 0, 0, 1}, Port, [binary, {active, false} | TlsOpts], 5000) of
        {ok, S} ->
            %% With TLS 1.3 a refused client certificate shows only after
            %% the client's handshake returned: in the send or the read.
            R = case ssl:send(S, ["GET ", Path, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
                                  "Authorization: Bearer ", ?TOKEN, "\r\n\r\n"]) of
                    ok -> read_all(S, <<>>);
                    SendErr -> SendErr
                end,
            ssl:close(S),
            case R of
                {ok, Data} ->
                    [Head, Body] = binary:split(Data, <<"\r\n\r\n">>),
                    <<"HTTP/1.1 ", Code:3/binary, _/binary>> = Head,
                    {ok, Json} = drover_agent_json:decode(Body),
                    {binary_to_integer(Code), Json};
                Err -> Err
            end;
        Err ->
            Err
    end.

read_all(S, Acc) ->
    case ssl:recv(S, 0, 5000) of
        {ok, D} -> read_all(S, <<Acc/binary, D/binary>>);
        {error, closed} when Acc =/= <<>> -> {ok, Acc};
        {error, _} = Err -> Err
    end.

%% A fake controller over TLS: answers 202 to each announcement and sends
%% its body to the test process.
controller(#{cert := Cert, key := Key}) ->
    Parent = self(),
    {ok, L} = ssl:listen(0, [binary, {active, false}, {certfile, Cert}, {keyfile, Key},
                             {ip, {127, 0, 0, 1}}, {reuseaddr, true}]),
    {ok, {_, Port}} = ssl:sockname(L),
    Pid = spawn(fun() -> accept(L, Parent) end),
    ok = ssl:controlling_process(L, Pid),
    {Port, Pid}.

accept(L, Parent) ->
    {ok, T} = ssl:transport_accept(L),
    case ssl:handshake(T, 5000) of
        {ok, S} ->
            {ok, Data} = drover_agent_test_client:read_request(fun() -> ssl:recv(S, 0, 5000) end),
            [_, Body] = binary:split(Data, <<"\r\n\r\n">>),
            Parent ! {announced, self(), Body},
            ok = ssl:send(S, <<"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n">>),
            ssl:close(S);
        {error, _} ->
            ok
    end,
    accept(L, Parent).
