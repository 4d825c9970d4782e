%% @doc TLS settings of the agent (OTP's ssl application), checked when the
%% agent starts so that a wrong path or a file that holds no certificate
%% fails the start with a clear reason instead of every later handshake.
%%
%% Server (the admin endpoint): `tls_certfile' and `tls_keyfile' (PEM)
%% turn HTTPS on; `tls_cacertfile' also requires every client to present a
%% certificate signed by one of its CAs. Client (announcements to an
%% https:// announce URL): the server's certificate is verified against
%% `announce_cacertfile', or the system's CAs when that is unset, and must
%% name the URL's host (a DNS name, or an IP address SAN for an IP).
-module(drover_agent_tls).

-export([server_options/1, client_options/2]).

%% TLS 1.2 and 1.3 only.
-define(VERSIONS, ['tlsv1.3', 'tlsv1.2']).

%% @doc The ssl listen options of Opts, `none' for plain HTTP, or why they
%% cannot work.
-spec server_options(map()) -> {ok, none | [ssl:tls_server_option()]} | {error, term()}.
server_options(#{tls_certfile := undefined, tls_keyfile := undefined, tls_cacertfile := undefined}) ->
    {ok, none};
server_options(#{tls_certfile := undefined, tls_keyfile := undefined}) ->
    {error, {tls, "tls_cacertfile is set but tls_certfile and tls_keyfile are not"}};
server_options(#{tls_certfile := Cert, tls_keyfile := Key}) when Cert =:= undefined; Key =:= undefined ->
    {error, {tls, "tls_certfile and tls_keyfile must be set together"}};
server_options(#{tls_certfile := Cert, tls_keyfile := Key, tls_cacertfile := CA}) ->
    Checks = [check_pem(tls_certfile, Cert, certificate),
              check_pem(tls_keyfile, Key, key)] ++
        [check_pem(tls_cacertfile, CA, certificate) || CA =/= undefined],
    case [E || {error, _} = E <- Checks] ++ [start_ssl()] of
        [ok] ->
            Base = [{certfile, Cert}, {keyfile, Key}, {versions, ?VERSIONS}],
            Verify = case CA of
                         undefined -> [{verify, verify_none}];
                         _ -> [{cacertfile, CA}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]
                     end,
            {ok, Base ++ Verify};
        [Err | _] ->
            Err
    end.

%% @doc The ssl connect options to reach Host (from an https:// URL):
%% `{ok, Address, Options}' where Address is an IP tuple for an IP literal
%% (then the certificate must hold that IP address), else the host name.
-spec client_options(string(), map()) ->
          {ok, inet:ip_address() | string(), [ssl:tls_client_option()]} | {error, term()}.
client_options(Host, Opts) ->
    case start_ssl() of
        ok ->
            case cacerts(maps:get(announce_cacertfile, Opts, undefined)) of
                {ok, CAs} ->
                    Common = [{verify, verify_peer}, CAs, {versions, ?VERSIONS}, {depth, 10},
                              {customize_hostname_check,
                               [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}],
                    case inet:parse_address(Host) of
                        {ok, IP} -> {ok, IP, Common};
                        {error, _} -> {ok, Host, [{server_name_indication, Host} | Common]}
                    end;
                Err ->
                    Err
            end;
        Err ->
            Err
    end.

cacerts(undefined) ->
    try public_key:cacerts_get() of
        [] -> {error, {tls, "no system CA certificates; set announce_cacertfile"}};
        CAs -> {ok, {cacerts, CAs}}
    catch
        _:Reason -> {error, {tls, {system_cacerts, Reason}}}
    end;
cacerts(File) ->
    case check_pem(announce_cacertfile, File, certificate) of
        ok -> {ok, {cacertfile, File}};
        Err -> Err
    end.

%% The ssl application is not started with the agent (plain HTTP needs
%% none of it): the release must include it when TLS is used.
start_ssl() ->
    case application:ensure_all_started(ssl) of
        {ok, _} -> ok;
        {error, Reason} ->
            {error, {tls, "the ssl application cannot start (is it in the release? "
                          "add ssl to the release's applications)", Reason}}
    end.

%% A readable PEM file that holds at least one entry of Kind.
check_pem(Option, Path, Kind) ->
    case file:read_file(Path) of
        {ok, Pem} ->
            Entries = try public_key:pem_decode(Pem) catch _:_ -> [] end,
            case lists:any(fun({Type, _, Enc}) -> kind(Type, Enc) =:= Kind end, Entries) of
                true -> ok;
                false -> {error, {Option, Path, no_pem_entry(Kind)}}
            end;
        {error, Reason} ->
            {error, {Option, Path, Reason}}
    end.

no_pem_entry(certificate) -> "no PEM certificate in the file";
no_pem_entry(key) -> "no unencrypted PEM private key in the file".

kind('Certificate', _) -> certificate;
kind(Key, not_encrypted) when Key =:= 'RSAPrivateKey'; Key =:= 'DSAPrivateKey';
                              Key =:= 'ECPrivateKey'; Key =:= 'PrivateKeyInfo' -> key;
kind(_, _) -> other.
