%% @doc One acceptor of the agent's listener, after ninenines/ranch's
%% ranch_acceptor and ranch_conns_sup: the acceptor process accepts and
%% admits connections against the connection caps; its companion "conns"
%% process starts a connection process (drover_agent_http_conn) for each
%% admitted one, linked, and traps exits to count the connection down the
%% moment it ends, however it ends (a crash or a kill included), so the
%% counts cannot leak or lag while the acceptor waits in accept.
%%
%% The counts are shared by the listener's acceptors: an ETS table, owned
%% by the listener, of the total and of one counter per source address,
%% changed with atomic ets:update_counter/4. A connection over a cap is
%% closed at once with a TCP reset, before anything is read from it.
%% Accepting never stops: an accept that fails for want of descriptors
%% (emfile) or memory is retried after ?ACCEPT_BACKOFF ms, any other
%% failure at once.
-module(drover_agent_acceptor).

-include_lib("kernel/include/logger.hrl").

-export([new_counts/2, count/1, admit/2, release/2, start_link/3]).

-export_type([counts/0]).

%% An accept that failed for want of resources is retried after this.
-define(ACCEPT_BACKOFF, 100).
%% Refusals and failed accepts are logged at most this often (per acceptor).
-define(LOG_EVERY, 10000).

-opaque counts() :: {ets:tid(), PerSource :: pos_integer(), Total :: pos_integer()}.

%% @doc A new count table, owned by the caller, for the caps PerSource and
%% Total.
-spec new_counts(pos_integer(), pos_integer()) -> counts().
new_counts(PerSource, Total) ->
    Tab = ets:new(drover_agent_conns, [set, public, {write_concurrency, true}]),
    true = ets:insert(Tab, {total, 0}),
    {Tab, PerSource, Total}.

%% @doc How many connections are counted now.
-spec count(counts()) -> non_neg_integer().
count({Tab, _, _}) ->
    ets:lookup_element(Tab, total, 2).

%% @doc Counts a connection from IP in, unless that passes a cap: then
%% nothing is counted and the answer says which cap.
-spec admit(counts(), inet:ip_address()) -> ok | {refused, total | per_source}.
admit({Tab, PerSource, Total}, IP) ->
    case ets:update_counter(Tab, total, 1) > Total of
        true ->
            _ = ets:update_counter(Tab, total, -1),
            {refused, total};
        false ->
            case ets:update_counter(Tab, {source, IP}, 1, {{source, IP}, 0}) > PerSource of
                true ->
                    release({Tab, PerSource, Total}, IP),
                    {refused, per_source};
                false ->
                    ok
            end
    end.

%% @doc Counts a connection from IP out.
-spec release(counts(), inet:ip_address()) -> ok.
release({Tab, _, _}, IP) ->
    _ = ets:update_counter(Tab, total, -1),
    case ets:update_counter(Tab, {source, IP}, -1) of
        %% Deletes the entry only if it is still 0 (no admit in between).
        0 -> ets:delete_object(Tab, {{source, IP}, 0});
        _ -> ok
    end,
    ok.

%% @doc Starts an acceptor on LSock, linked to the caller (the listener).
-spec start_link(drover_agent_sock:socket(), counts(), map()) -> pid().
start_link(LSock, Counts, Opts) ->
    Parent = self(),
    proc_lib:spawn_link(fun() -> init(Parent, LSock, Counts, Opts) end).

-record(acc, {lsock :: drover_agent_sock:socket(),
              counts :: counts(),
              %% the companion process that starts and counts connections
              conns :: pid(),
              %% refusals and accept failures since the last log line
              refused = 0 :: non_neg_integer(),
              failed = 0 :: non_neg_integer(),
              logged = -?LOG_EVERY * 2 :: integer()}).

%% The acceptor does not trap exits: it dies with the listener, and its
%% conns process (linked) with it.
init(_Parent, LSock, Counts, Opts) ->
    Self = self(),
    Conns = proc_lib:spawn_link(fun() -> conns_init(Self, Counts, Opts) end),
    loop(#acc{lsock = LSock, counts = Counts, conns = Conns}).

loop(#acc{lsock = LSock} = A) ->
    case drover_agent_sock:accept(LSock) of
        {ok, Sock} -> loop(admit_socket(Sock, A));
        {error, closed} -> exit(normal);
        {error, Reason} -> loop(accept_failed(Reason, A))
    end.

admit_socket(Sock, #acc{counts = Counts, conns = Conns} = A) ->
    case drover_agent_sock:peer_ip(Sock) of
        {ok, IP} ->
            case admit(Counts, IP) of
                ok -> hand_over(Sock, IP, Conns, Counts), A;
                {refused, Cap} -> refuse(Sock, Cap, IP, A)
            end;
        {error, _} ->
            drover_agent_sock:close(Sock),
            A
    end.

hand_over(Sock, IP, Conns, Counts) ->
    Accepted = erlang:monotonic_time(millisecond),
    case drover_agent_sock:controlling_process(Sock, Conns) of
        ok ->
            Conns ! {start, Sock, IP, Accepted};
        {error, _} ->
            drover_agent_sock:close(Sock),
            release(Counts, IP)
    end.

%%% The conns process: starts, links and counts down connections

conns_init(Acceptor, Counts, Opts) ->
    process_flag(trap_exit, true),
    conns_loop(Acceptor, Counts, Opts, #{}).

%% Conns: pid => source address.
conns_loop(Acceptor, Counts, Opts, Conns) ->
    receive
        {start, Sock, IP, Accepted} ->
            Pid = proc_lib:spawn_link(drover_agent_http_conn, start, [Opts, Accepted]),
            case drover_agent_sock:controlling_process(Sock, Pid) of
                ok ->
                    Pid ! {socket, Sock},
                    conns_loop(Acceptor, Counts, Opts, Conns#{Pid => IP});
                {error, _} ->
                    drover_agent_sock:close(Sock),
                    unlink(Pid),
                    exit(Pid, kill),
                    release(Counts, IP),
                    conns_loop(Acceptor, Counts, Opts, Conns)
            end;
        {'EXIT', Acceptor, _} ->
            %% Not normal, so that every linked connection ends too.
            exit(shutdown);
        {'EXIT', Pid, _} when is_map_key(Pid, Conns) ->
            release(Counts, map_get(Pid, Conns)),
            conns_loop(Acceptor, Counts, Opts, maps:remove(Pid, Conns));
        _ ->
            conns_loop(Acceptor, Counts, Opts, Conns)
    end.

refuse(Sock, Cap, IP, #acc{refused = R} = A) ->
    drover_agent_sock:reset(Sock),
    maybe_log(A#acc{refused = R + 1}, Cap, IP).

accept_failed(Reason, #acc{failed = F} = A) ->
    A1 = maybe_log(A#acc{failed = F + 1}, Reason, undefined),
    %% A receive, not timer:sleep/1: with no descriptor left, loading a
    %% module that is not loaded yet fails.
    case lists:member(Reason, [emfile, enfile, enobufs, enomem, system_limit]) of
        true -> receive after ?ACCEPT_BACKOFF -> ok end;
        false -> ok
    end,
    A1.

%% One warning per ?LOG_EVERY ms at most, with the counts since the last.
maybe_log(#acc{logged = Logged, refused = R, failed = F, counts = {_, PerSource, Total} = Counts} = A,
          Why, IP) ->
    Now = erlang:monotonic_time(millisecond),
    case Now - Logged >= ?LOG_EVERY of
        true ->
            ?LOG_WARNING(#{what => "drover_agent: connections refused or accepts failed",
                           last_reason => Why, last_source => format_ip(IP),
                           refused => R, accept_failures => F, connections => count(Counts),
                           max_connections => Total, max_connections_per_source => PerSource}),
            A#acc{logged = Now, refused = 0, failed = 0};
        false ->
            A
    end.

format_ip(undefined) -> undefined;
format_ip(IP) -> list_to_binary(inet:ntoa(IP)).
