package ranchersim

// cattleTypes are the schema types a project member (an environment API
// key) sees on Cattle 1.6, with Cattle's permissions, resource actions
// ("name:input>output") and resource fields ("name:type"). See schemas.go
// for where each part comes from.
var cattleTypes = []typeRow{
	{id: "account", perms: "r",
		actions: "activate>account deactivate>account purge>account remove>account restore>account update>account upgrade>account",
		fields: "created:date data:map[json] description:string externalId:string externalIdType:string " +
			"identity:string kind:string name:string removeTime:date removed:date state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string " +
			"version:string"},
	{id: "activeSetting", perms: "r",
		actions: "",
		fields:  "activeValue:json inDb:boolean name:string source:string value:string"},
	{id: "addOutputsInput", perms: "r",
		actions: "",
		fields:  "outputs:map[json]"},
	{id: "addRemoveServiceLinkInput", perms: "cr",
		actions: "",
		fields:  "serviceLink:serviceLink"},
	{id: "apiKey", perms: "crud",
		actions: "activate>credential deactivate>credential purge>credential remove>credential update>credential",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string publicValue:string removeTime:date removed:date secretValue:string state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "auditLog", perms: "r",
		actions: "",
		fields: "accountId:reference[account] authType:string authenticatedAsAccountId:reference[account] " +
			"authenticatedAsIdentityId:reference[identity] clientIp:string created:date " +
			"description:string eventType:string kind:string requestObject:string resourceId:int " +
			"resourceType:string responseCode:string responseObject:string"},
	{id: "backup", perms: "rd",
		actions: "remove>backup",
		fields: "accountId:reference[account] backupTargetId:reference[backupTarget] created:date " +
			"data:map[json] description:string kind:string name:string removeTime:date removed:date " +
			"snapshotId:reference[snapshot] state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uri:string uuid:string volumeId:reference[volume]"},
	{id: "backupTarget", perms: "crd",
		actions: "remove>backupTarget",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string nfsConfig:nfsConfig removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "baseMachineConfig", perms: "r",
		actions: "",
		fields:  "data:array[baseMachineConfig]"},
	{id: "binding", perms: "cru",
		actions: "",
		fields:  "services:map[json]"},
	{id: "blkioDeviceOption", perms: "cr",
		actions: "",
		fields:  "readBps:int readIops:int weight:int writeBps:int writeIops:int"},
	{id: "catalogTemplate", perms: "r",
		actions: "",
		fields: "answers:map[json] binding:binding description:string dockerCompose:string name:string " +
			"rancherCompose:string templateId:reference[template] templateVersionId:reference[version]"},
	{id: "certificate", perms: "crud",
		actions: "remove>certificate update>certificate",
		fields: "accountId:reference[account] algorithm:string cN:string cert:string certChain:string " +
			"certFingerprint:string created:date data:map[json] description:string expiresAt:date " +
			"issuedAt:date issuer:string key:string keySize:int kind:string name:string removeTime:date " +
			"removed:date serialNumber:string state:enum subjectAlternativeNames:array[string] " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string " +
			"version:string"},
	{id: "changeSecretInput", perms: "cr",
		actions: "",
		fields:  "newSecret:string oldSecret:string"},
	{id: "composeConfig", perms: "r",
		actions: "",
		fields:  "dockerComposeConfig:string rancherComposeConfig:string"},
	{id: "composeConfigInput", perms: "cr",
		actions: "",
		fields:  "serviceIds:array[reference[service]]"},
	{id: "composeProject", perms: "crud",
		actions: "cancelupgrade>stack finishupgrade>stack remove>stack rollback>stack",
		fields: "accountId:reference[account] answers:map[json] binding:binding created:date data:map[json] " +
			"description:string environment:map[json] externalId:string group:string healthState:enum " +
			"kind:string name:string previousEnvironment:map[json] " +
			"previousExternalId:reference[external] removeTime:date removed:date " +
			"serviceIds:array[reference[service]] state:enum system:boolean templates:map[json] " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "composeService", perms: "rd",
		actions: "activate>service cancelupgrade>service continueupgrade>service finishupgrade>service remove>service rollback>service",
		fields: "accountId:reference[account] created:date currentScale:int data:map[json] " +
			"description:string externalId:string fqdn:string healthState:enum " +
			"instanceIds:array[reference[instance]] kind:string launchConfig:launchConfig " +
			"linkedServices:map[json] name:string publicEndpoints:array[publicEndpoint] removeTime:date " +
			"removed:date scale:int scalePolicy:scalePolicy selectorContainer:string selectorLink:string " +
			"stackId:reference[stack] startOnCreate:boolean state:enum system:boolean transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string vip:string"},
	{id: "container", perms: "crud",
		actions: "console:instanceConsoleInput>instanceConsole execute:containerExec>hostAccess logs:containerLogs>hostAccess migrate>instance proxy:containerProxy>hostAccess purge>instance remove>instance restart>instance restore>instance start>instance stop:instanceStop>instance update>instance",
		fields: "accountId:reference[account] agentId:reference[agent] allocationState:string " +
			"blkioDeviceOptions:map[json] blkioWeight:int build:dockerBuild capAdd:array[string] " +
			"capDrop:array[string] cgroupParent:string command:array[string] count:int cpuCount:int " +
			"cpuPercent:int cpuPeriod:int cpuQuota:int cpuSet:string cpuSetMems:string cpuShares:int " +
			"createIndex:int created:date data:map[json] dataVolumeMounts:map[json] " +
			"dataVolumes:array[string] dataVolumesFrom:array[string] deploymentUnitUuid:string " +
			"description:string devices:array[string] diskQuota:int dns:array[string] " +
			"dnsOpt:array[string] dnsSearch:array[string] domainName:string entryPoint:array[string] " +
			"environment:map[json] expose:array[string] externalId:string extraHosts:array[string] " +
			"firstRunning:date groupAdd:array[string] healthCheck:instanceHealthCheck " +
			"healthCmd:array[string] healthInterval:int healthRetries:int healthState:enum " +
			"healthTimeout:int hostId:reference[host] hostname:string imageUuid:string " +
			"instanceLinks:map[json] instanceTriggeredStop:string ioMaximumBandwidth:int " +
			"ioMaximumIOps:int ip:string ip6:string ipcMode:string isolation:string kernelMemory:int " +
			"kind:string labels:map[json] logConfig:logConfig lxcConf:map[json] memory:int " +
			"memoryReservation:int memorySwap:int memorySwappiness:int milliCpuReservation:int " +
			"mounts:array[mountEntry] name:string nativeContainer:boolean netAlias:array[string] " +
			"networkContainerId:reference[container] networkIds:array[reference[network]] " +
			"networkMode:string oomKillDisable:boolean oomScoreAdj:int pidMode:string pidsLimit:int " +
			"ports:array[string] primaryIpAddress:string primaryNetworkId:reference[network] " +
			"privileged:boolean publishAllPorts:boolean readOnly:boolean " +
			"registryCredentialId:reference[registryCredential] removeTime:date removed:date " +
			"requestedHostId:reference[host] restartPolicy:restartPolicy secrets:array[secretReference] " +
			"securityOpt:array[string] serviceId:reference[service] serviceIds:array[reference[service]] " +
			"shmSize:int stackId:reference[stack] startCount:int startOnCreate:boolean state:enum " +
			"stdinOpen:boolean stopSignal:string storageOpt:map[json] sysctls:map[json] system:boolean " +
			"tmpfs:map[json] token:string transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int tty:boolean ulimits:array[ulimit] user:string " +
			"userPorts:array[string] usernsMode:string uts:string uuid:string version:string " +
			"volumeDriver:string workingDir:string"},
	{id: "containerEvent", perms: "r",
		actions: "remove>containerEvent",
		fields: "accountId:reference[account] created:date data:map[json] dockerInspect:json " +
			"externalFrom:string externalId:string externalStatus:string externalTimestamp:int " +
			"hostId:reference[host] kind:string reportedHostUuid:string state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int"},
	{id: "containerExec", perms: "cr",
		actions: "",
		fields:  "attachStdin:boolean attachStdout:boolean command:array[string] tty:boolean"},
	{id: "containerLogs", perms: "cr",
		actions: "",
		fields:  "follow:boolean lines:int"},
	{id: "containerProxy", perms: "cr",
		actions: "",
		fields:  "port:int scheme:string"},
	{id: "credential", perms: "r",
		actions: "activate>credential deactivate>credential purge>credential remove>credential update>credential",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string publicValue:string removeTime:date removed:date secretValue:string state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "defaultNetwork", perms: "r",
		actions: "activate>network deactivate>network purge>network remove>network restore>network update>network",
		fields: "accountId:reference[account] created:date data:map[json] defaultPolicyAction:string " +
			"description:string dns:array[string] dnsSearch:array[string] hostPorts:boolean kind:string " +
			"metadata:map[json] name:string policy:array[networkPolicyRule] removeTime:date removed:date " +
			"state:enum subnets:array[subnet] transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "dnsService", perms: "crud",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] assignServiceIpAddress:boolean created:date data:map[json] " +
			"description:string externalId:string fqdn:string healthState:enum " +
			"instanceIds:array[reference[instance]] kind:string launchConfig:launchConfig " +
			"linkedServices:map[json] metadata:map[json] name:string removeTime:date removed:date " +
			"retainIp:boolean selectorLink:string stackId:reference[stack] startOnCreate:boolean " +
			"state:enum system:boolean transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int upgrade:serviceUpgrade uuid:string"},
	{id: "dockerBuild", perms: "cr",
		actions: "",
		fields:  "context:string dockerfile:string forcerm:boolean nocache:boolean remote:string rm:boolean"},
	{id: "externalDnsEvent", perms: "r",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] eventType:string externalId:string " +
			"fqdn:string kind:string reportedAccountId:reference[account] serviceName:string " +
			"stackName:string state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "externalEvent", perms: "r",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] eventType:string externalId:string " +
			"kind:string reportedAccountId:reference[account] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "externalHostEvent", perms: "cr",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] deleteHost:boolean " +
			"eventType:string externalId:string hostId:reference[host] hostLabel:string kind:string " +
			"reportedAccountId:reference[account] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "externalService", perms: "crud",
		actions: "activate>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service restart:serviceRestart>service rollback>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"externalId:string externalIpAddresses:array[string] fqdn:string " +
			"healthCheck:instanceHealthCheck healthState:enum hostname:string " +
			"instanceIds:array[reference[instance]] kind:string launchConfig:launchConfig " +
			"linkedServices:map[json] metadata:map[json] name:string removeTime:date removed:date " +
			"stackId:reference[stack] startOnCreate:boolean state:enum system:boolean transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int upgrade:serviceUpgrade uuid:string"},
	{id: "externalServiceEvent", perms: "r",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] environment:json eventType:string " +
			"externalId:string kind:string reportedAccountId:reference[account] service:json state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "externalStoragePoolEvent", perms: "r",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] eventType:string externalId:string " +
			"hostUuids:array[string] kind:string reportedAccountId:reference[account] state:enum " +
			"storagePool:storagePool transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "externalVolumeEvent", perms: "r",
		actions: "remove>externalEvent",
		fields: "accountId:reference[account] created:date data:map[json] eventType:string externalId:string " +
			"kind:string reportedAccountId:reference[account] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string volume:volume"},
	{id: "fieldDocumentation", perms: "r",
		actions: "",
		fields:  "description:string"},
	{id: "genericObject", perms: "crd",
		actions: "remove>genericObject",
		fields: "accountId:reference[account] created:date data:map[json] description:string key:string " +
			"kind:string name:string removeTime:date removed:date resourceData:map[json] state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "healthcheckInstanceHostMap", perms: "r",
		actions: "remove>healthcheckInstanceHostMap",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"healthState:enum hostId:reference[host] instanceId:reference[instance] kind:string " +
			"name:string removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "host", perms: "rud",
		actions: "activate>host deactivate>host dockersocket>hostAccess evacuate>host purge>host remove>host restore>host update>host",
		fields: "accountId:reference[account] agentId:reference[agent] agentIpAddress:string " +
			"agentState:string amazonec2Config:amazonec2Config apiProxy:string " +
			"authCertificateAuthority:string authKey:string azureConfig:azureConfig computeTotal:int " +
			"created:date data:map[json] description:string digitaloceanConfig:digitaloceanConfig " +
			"dockerVersion:string driver:string engineEnv:map[json] engineInsecureRegistry:array[string] " +
			"engineInstallUrl:string engineLabel:map[json] engineOpt:map[json] " +
			"engineRegistryMirror:array[string] engineStorageDriver:string extractedConfig:string " +
			"hostTemplateId:reference[template] hostname:string info:json " +
			"instanceIds:array[reference[instance]] kind:string labels:map[json] localStorageMb:int " +
			"memory:int milliCpu:int name:string packetConfig:packetConfig " +
			"physicalHostId:reference[physicalHost] publicEndpoints:array[publicEndpoint] " +
			"removeTime:date removed:date stackId:reference[stack] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "hostAccess", perms: "r",
		actions: "",
		fields:  "token:string url:string"},
	{id: "identity", perms: "r",
		actions: "",
		fields: "all:string externalId:string externalIdType:string login:string name:string " +
			"profilePicture:string profileUrl:string projectId:reference[project] role:string"},
	{id: "image", perms: "r",
		actions: "activate>image deactivate>image purge>image remove>image restore>image update>image",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "inServiceUpgradeStrategy", perms: "cr",
		actions: "",
		fields: "batchSize:int intervalMillis:int launchConfig:launchConfig " +
			"previousLaunchConfig:launchConfig " +
			"previousSecondaryLaunchConfigs:array[secondaryLaunchConfig] " +
			"secondaryLaunchConfigs:array[secondaryLaunchConfig] startFirst:boolean"},
	{id: "instance", perms: "r",
		actions: "console:instanceConsoleInput>instanceConsole migrate>instance purge>instance remove>instance restart>instance restore>instance start>instance stop:instanceStop>instance update>instance",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"externalId:string hostId:reference[host] kind:string name:string removeTime:date " +
			"removed:date state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "instanceConsole", perms: "r",
		actions: "",
		fields:  "kind:string password:string url:string"},
	{id: "instanceConsoleInput", perms: "r",
		actions: "",
		fields:  "data:array[instanceConsoleInput]"},
	{id: "instanceHealthCheck", perms: "cr",
		actions: "",
		fields: "healthyThreshold:int initializingTimeout:int interval:int name:string port:int " +
			"recreateOnQuorumStrategyConfig:recreateOnQuorumStrategyConfig reinitializingTimeout:int " +
			"requestLine:string responseTimeout:int strategy:string unhealthyThreshold:int"},
	{id: "instanceLink", perms: "ru",
		actions: "activate>instanceLink deactivate>instanceLink purge>instanceLink remove>instanceLink restore>instanceLink update>instanceLink",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"instanceId:reference[instance] kind:string linkName:string name:string ports:array[json] " +
			"removeTime:date removed:date state:enum targetInstanceId:reference[instance] " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "instanceStop", perms: "cr",
		actions: "",
		fields:  "remove:boolean timeout:int"},
	{id: "ipAddress", perms: "r",
		actions: "activate>ipAddress associate>ipAddress deactivate>ipAddress disassociate>ipAddress purge>ipAddress remove>ipAddress restore>ipAddress update>ipAddress",
		fields: "accountId:reference[account] address:string created:date data:map[json] description:string " +
			"kind:string name:string networkId:reference[network] removeTime:date removed:date " +
			"state:enum transitioning:enum transitioningMessage:string transitioningProgress:int " +
			"uuid:string"},
	{id: "kubernetesService", perms: "r",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"externalId:string healthState:enum instanceIds:array[reference[instance]] kind:string " +
			"linkedServices:map[json] name:string removeTime:date removed:date selectorContainer:string " +
			"stackId:reference[stack] state:enum system:boolean template:json transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string vip:string"},
	{id: "kubernetesStack", perms: "crud",
		actions: "cancelupgrade>stack finishupgrade>stack remove>stack rollback>stack upgrade:kubernetesStackUpgrade>kubernetesStack",
		fields: "accountId:reference[account] answers:map[json] binding:binding created:date data:map[json] " +
			"description:string environment:map[json] externalId:string group:string healthState:enum " +
			"kind:string name:string namespace:string previousEnvironment:map[json] " +
			"previousExternalId:reference[external] removeTime:date removed:date " +
			"serviceIds:array[reference[service]] state:enum system:boolean templates:map[json] " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "kubernetesStackUpgrade", perms: "cr",
		actions: "",
		fields:  "answers:map[json] environment:map[json] externalId:string templates:map[json]"},
	{id: "label", perms: "r",
		actions: "remove>label",
		fields: "accountId:reference[account] created:date data:map[json] description:string key:string " +
			"kind:string name:string removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string value:string"},
	{id: "launchConfig", perms: "cru",
		actions: "console:instanceConsoleInput>instanceConsole execute:containerExec>hostAccess migrate>instance proxy:containerProxy>hostAccess purge>instance remove>instance restart>instance restore>instance start>instance stop:instanceStop>instance update>instance",
		fields: "accountId:reference[account] agentId:reference[agent] allocationState:string " +
			"blkioDeviceOptions:map[json] blkioWeight:int build:dockerBuild capAdd:array[string] " +
			"capDrop:array[string] cgroupParent:string command:array[string] count:int cpuCount:int " +
			"cpuPercent:int cpuPeriod:int cpuQuota:int cpuSet:string cpuSetMems:string cpuShares:int " +
			"createIndex:int created:date data:map[json] dataVolumeMounts:map[json] " +
			"dataVolumes:array[string] dataVolumesFrom:array[string] " +
			"dataVolumesFromLaunchConfigs:array[string] deploymentUnitUuid:string description:string " +
			"devices:array[string] diskQuota:int disks:array[virtualMachineDisk] dns:array[string] " +
			"dnsOpt:array[string] dnsSearch:array[string] domainName:string entryPoint:array[string] " +
			"environment:map[json] expose:array[string] externalId:string extraHosts:array[string] " +
			"firstRunning:date groupAdd:array[string] healthCheck:instanceHealthCheck " +
			"healthCmd:array[string] healthInterval:int healthRetries:int healthState:enum " +
			"healthTimeout:int hostId:reference[host] hostname:string imageUuid:string " +
			"instanceLinks:map[json] instanceTriggeredStop:string ioMaximumBandwidth:int " +
			"ioMaximumIOps:int ip:string ip6:string ipcMode:string isolation:string kernelMemory:int " +
			"kind:string labels:map[json] logConfig:logConfig lxcConf:map[json] memory:int memoryMb:int " +
			"memoryReservation:int memorySwap:int memorySwappiness:int milliCpuReservation:int " +
			"mounts:array[mountEntry] nativeContainer:boolean netAlias:array[string] " +
			"networkContainerId:reference[container] networkIds:array[reference[network]] " +
			"networkLaunchConfig:string networkMode:string oomKillDisable:boolean oomScoreAdj:int " +
			"pidMode:string pidsLimit:int ports:array[string] primaryIpAddress:string " +
			"primaryNetworkId:reference[network] privileged:boolean publishAllPorts:boolean " +
			"readOnly:boolean registryCredentialId:reference[registryCredential] removeTime:date " +
			"removed:date requestedHostId:reference[host] requestedIpAddress:string " +
			"secrets:array[secretReference] securityOpt:array[string] serviceId:reference[service] " +
			"serviceIds:array[reference[service]] shmSize:int stackId:reference[stack] startCount:int " +
			"startOnCreate:boolean state:enum stdinOpen:boolean stopSignal:string storageOpt:map[json] " +
			"sysctls:map[json] system:boolean tmpfs:map[json] token:string transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int tty:boolean ulimits:array[ulimit] " +
			"user:string userPorts:array[string] userdata:string usernsMode:string uts:string " +
			"uuid:string vcpu:int version:string volumeDriver:string workingDir:string"},
	{id: "lbConfig", perms: "cr",
		actions: "",
		fields: "certificateIds:array[reference[certificate]] config:string " +
			"defaultCertificateId:reference[certificate] portRules:array[portRule] " +
			"stickinessPolicy:loadBalancerCookieStickinessPolicy"},
	{id: "lbTargetConfig", perms: "r",
		actions: "",
		fields:  "portRules:array[targetPortRule]"},
	{id: "loadBalancerCookieStickinessPolicy", perms: "cru",
		actions: "",
		fields: "cookie:string domain:string indirect:boolean mode:string name:string nocache:boolean " +
			"postonly:boolean"},
	{id: "loadBalancerService", perms: "crud",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] assignServiceIpAddress:boolean created:date currentScale:int " +
			"data:map[json] description:string externalId:string fqdn:string healthState:enum " +
			"instanceIds:array[reference[instance]] kind:string launchConfig:launchConfig " +
			"lbConfig:lbConfig linkedServices:map[json] metadata:map[json] name:string " +
			"publicEndpoints:array[publicEndpoint] removeTime:date removed:date retainIp:boolean " +
			"scale:int scalePolicy:scalePolicy selectorLink:string stackId:reference[stack] " +
			"startOnCreate:boolean state:enum system:boolean transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int upgrade:serviceUpgrade uuid:string " +
			"vip:string"},
	{id: "logConfig", perms: "cr",
		actions: "",
		fields:  "config:map[json] driver:string"},
	{id: "machine", perms: "crd",
		actions: "bootstrap>physicalHost remove>physicalHost update>physicalHost",
		fields: "accountId:reference[account] amazonec2Config:amazonec2Config " +
			"authCertificateAuthority:string authKey:string azureConfig:azureConfig created:date " +
			"data:map[json] description:string digitaloceanConfig:digitaloceanConfig " +
			"dockerVersion:string driver:string engineEnv:map[json] engineInsecureRegistry:array[string] " +
			"engineInstallUrl:string engineLabel:map[json] engineOpt:map[json] " +
			"engineRegistryMirror:array[string] engineStorageDriver:string externalId:string " +
			"extractedConfig:string kind:string labels:map[json] name:string packetConfig:packetConfig " +
			"removeTime:date removed:date state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "machineDriver", perms: "r",
		actions: "activate>machineDriver deactivate>machineDriver reactivate>machineDriver remove>machineDriver update>machineDriver",
		fields: "activateOnCreate:boolean builtin:boolean checksum:string created:date data:map[json] " +
			"defaultActive:boolean description:string externalId:string kind:string name:string " +
			"removeTime:date removed:date schemaVersion:string state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uiUrl:string url:string uuid:string"},
	{id: "mount", perms: "r",
		actions: "deactivate>mount remove>mount",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"instanceId:reference[instance] kind:string name:string path:string permissions:string " +
			"removeTime:date removed:date state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string volumeId:reference[volume]"},
	{id: "network", perms: "crud",
		actions: "activate>network deactivate>network purge>network remove>network restore>network update>network",
		fields: "accountId:reference[account] created:date data:map[json] defaultPolicyAction:string " +
			"description:string dns:array[string] dnsSearch:array[string] hostPorts:boolean kind:string " +
			"metadata:map[json] name:string networkDriverId:reference[networkDriver] " +
			"policy:array[networkPolicyRule] removeTime:date removed:date state:enum " +
			"subnets:array[subnet] transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "networkDriver", perms: "r",
		actions: "activate>networkDriver deactivate>networkDriver remove>networkDriver update>networkDriver",
		fields: "accountId:reference[account] cniConfig:map[json] created:date data:map[json] " +
			"defaultNetwork:defaultNetwork description:string kind:string name:string " +
			"networkMetadata:map[json] removeTime:date removed:date serviceId:reference[service] " +
			"state:enum transitioning:enum transitioningMessage:string transitioningProgress:int " +
			"uuid:string"},
	{id: "networkDriverService", perms: "crud",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] assignServiceIpAddress:boolean createIndex:int created:date " +
			"currentScale:int data:map[json] description:string externalId:string fqdn:string " +
			"healthState:enum instanceIds:array[reference[instance]] kind:string " +
			"launchConfig:launchConfig lbConfig:lbTargetConfig linkedServices:map[json] " +
			"metadata:map[json] name:string networkDriver:networkDriver " +
			"publicEndpoints:array[publicEndpoint] removeTime:date removed:date retainIp:boolean " +
			"scale:int scalePolicy:scalePolicy secondaryLaunchConfigs:array[secondaryLaunchConfig] " +
			"selectorContainer:string selectorLink:string stackId:reference[stack] startOnCreate:boolean " +
			"state:enum system:boolean transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int upgrade:serviceUpgrade uuid:string vip:string"},
	{id: "nfsConfig", perms: "r",
		actions: "",
		fields:  "mountOptions:string server:string share:string"},
	{id: "password", perms: "crud",
		actions: "activate>credential changesecret:changeSecretInput>changeSecretInput deactivate>credential purge>credential remove>credential update>credential",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string publicValue:string removeTime:date removed:date secretValue:string state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "physicalHost", perms: "r",
		actions: "bootstrap>physicalHost remove>physicalHost update>physicalHost",
		fields: "accountId:reference[account] created:date data:map[json] description:string driver:string " +
			"externalId:string kind:string name:string removeTime:date removed:date state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "port", perms: "ru",
		actions: "activate>port deactivate>port purge>port remove>port restore>port update>port",
		fields: "accountId:reference[account] bindAddress:string created:date data:map[json] " +
			"description:string instanceId:reference[instance] kind:string name:string " +
			"privateIpAddressId:reference[address] privatePort:int protocol:string " +
			"publicIpAddressId:reference[address] publicPort:int removeTime:date removed:date state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "portRule", perms: "cr",
		actions: "",
		fields: "backendName:string hostname:string path:string priority:int protocol:string selector:string " +
			"serviceId:reference[service] sourcePort:int targetPort:int"},
	{id: "project", perms: "r",
		actions: "",
		fields: "allowSystemRole:boolean created:date data:map[json] " +
			"defaultNetworkId:reference[defaultNetwork] description:string healthState:enum " +
			"hostRemoveDelaySeconds:int kind:string members:array[projectMember] name:string " +
			"orchestration:string projectLinks:array[string] " +
			"projectTemplateId:reference[projectTemplate] removeTime:date removed:date " +
			"servicesPortRange:servicesPortRange state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string version:string " +
			"virtualMachine:boolean"},
	{id: "publish", perms: "c",
		actions: "",
		fields: "data:map[json] name:string previousIds:array[string] previousNames:array[string] " +
			"publisher:string resourceId:string resourceType:string time:int transitioning:enum " +
			"transitioningInternalMessage:string transitioningMessage:string transitioningProgress:int"},
	{id: "projectMember", perms: "r",
		actions: "activate>projectMember deactivate>projectMember purge>projectMember remove>projectMember restore>projectMember update>projectMember",
		fields: "created:date data:map[json] description:string externalId:string externalIdType:string " +
			"kind:string name:string projectId:reference[project] removeTime:date removed:date " +
			"role:string state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "projectTemplate", perms: "r",
		actions: "remove>projectTemplate",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"externalId:string isPublic:boolean kind:string name:string removeTime:date removed:date " +
			"stacks:array[catalogTemplate] state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "publicEndpoint", perms: "r",
		actions: "",
		fields: "hostId:reference[host] instanceId:reference[instance] ipAddress:string port:int " +
			"serviceId:reference[service]"},
	{id: "pullTask", perms: "cr",
		actions: "remove>genericObject",
		fields: "accountId:reference[account] created:date data:map[json] description:string image:string " +
			"kind:string labels:map[json] mode:string name:string removeTime:date removed:date " +
			"state:enum status:map[json] transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "recreateOnQuorumStrategyConfig", perms: "cr",
		actions: "",
		fields:  "quorum:int"},
	{id: "register", perms: "cr",
		actions: "remove>genericObject stop:instanceStop>instance",
		fields: "accessKey:string accountId:reference[account] created:date data:map[json] " +
			"description:string key:string kind:string name:string removeTime:date removed:date " +
			"resourceData:map[json] secretKey:string state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "registrationToken", perms: "cr",
		actions: "activate>credential deactivate>credential purge>credential remove>credential update>credential",
		fields: "accountId:reference[account] command:string created:date data:map[json] description:string " +
			"image:string kind:string name:string registrationUrl:string removeTime:date removed:date " +
			"state:enum token:string transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "registry", perms: "crud",
		actions: "activate>storagePool deactivate>storagePool purge>storagePool remove>storagePool restore>storagePool update>storagePool",
		fields: "accountId:reference[account] blockDevicePath:string created:date data:map[json] " +
			"description:string driverName:string externalId:string kind:string name:string " +
			"removeTime:date removed:date serverAddress:string state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string volumeAccessMode:string " +
			"volumeCapabilities:array[string]"},
	{id: "registryCredential", perms: "crud",
		actions: "activate>credential deactivate>credential purge>credential remove>credential update>credential",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string publicValue:string registryId:reference[registry] removeTime:date removed:date " +
			"secretValue:string state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "restartPolicy", perms: "cr",
		actions: "",
		fields:  "maximumRetryCount:int name:string"},
	{id: "restoreFromBackupInput", perms: "r",
		actions: "",
		fields:  "backupId:reference[backup]"},
	{id: "revertToSnapshotInput", perms: "r",
		actions: "",
		fields:  "snapshotId:reference[snapshot]"},
	{id: "rollingRestartStrategy", perms: "cr",
		actions: "",
		fields:  "batchSize:int intervalMillis:int"},
	{id: "scalePolicy", perms: "r",
		actions: "",
		fields:  "increment:int max:int min:int"},
	{id: "schema", perms: "r",
		actions: "",
		fields: "collectionActions:map[json] collectionFields:map[json] collectionFilters:map[json] " +
			"collectionMethods:array[string] includeableLinks:array[string] pluralName:string " +
			"resourceActions:map[json] resourceFields:map[json] resourceMethods:array[string]"},
	{id: "secondaryLaunchConfig", perms: "cru",
		actions: "console:instanceConsoleInput>instanceConsole execute:containerExec>hostAccess migrate>instance proxy:containerProxy>hostAccess purge>instance remove>instance restart>instance restore>instance start>instance stop:instanceStop>instance update>instance",
		fields: "accountId:reference[account] agentId:reference[agent] allocationState:string " +
			"blkioDeviceOptions:map[json] blkioWeight:int build:dockerBuild capAdd:array[string] " +
			"capDrop:array[string] cgroupParent:string command:array[string] count:int cpuCount:int " +
			"cpuPercent:int cpuPeriod:int cpuQuota:int cpuSet:string cpuSetMems:string cpuShares:int " +
			"createIndex:int created:date data:map[json] dataVolumeMounts:map[json] " +
			"dataVolumes:array[string] dataVolumesFrom:array[string] " +
			"dataVolumesFromLaunchConfigs:array[string] deploymentUnitUuid:string description:string " +
			"devices:array[string] diskQuota:int disks:array[virtualMachineDisk] dns:array[string] " +
			"dnsOpt:array[string] dnsSearch:array[string] domainName:string entryPoint:array[string] " +
			"environment:map[json] expose:array[string] externalId:string extraHosts:array[string] " +
			"firstRunning:date groupAdd:array[string] healthCheck:instanceHealthCheck " +
			"healthCmd:array[string] healthInterval:int healthRetries:int healthState:enum " +
			"healthTimeout:int hostId:reference[host] hostname:string imageUuid:string " +
			"instanceLinks:map[json] instanceTriggeredStop:string ioMaximumBandwidth:int " +
			"ioMaximumIOps:int ip:string ip6:string ipcMode:string isolation:string kernelMemory:int " +
			"kind:string labels:map[json] logConfig:logConfig lxcConf:map[json] memory:int memoryMb:int " +
			"memoryReservation:int memorySwap:int memorySwappiness:int milliCpuReservation:int " +
			"mounts:array[mountEntry] name:string nativeContainer:boolean netAlias:array[string] " +
			"networkContainerId:reference[container] networkIds:array[reference[network]] " +
			"networkLaunchConfig:string networkMode:string oomKillDisable:boolean oomScoreAdj:int " +
			"pidMode:string pidsLimit:int ports:array[string] primaryIpAddress:string " +
			"primaryNetworkId:reference[network] privileged:boolean publishAllPorts:boolean " +
			"readOnly:boolean registryCredentialId:reference[registryCredential] removeTime:date " +
			"removed:date requestedHostId:reference[host] requestedIpAddress:string " +
			"secrets:array[secretReference] securityOpt:array[string] serviceId:reference[service] " +
			"serviceIds:array[reference[service]] shmSize:int stackId:reference[stack] startCount:int " +
			"startOnCreate:boolean state:enum stdinOpen:boolean stopSignal:string storageOpt:map[json] " +
			"sysctls:map[json] system:boolean tmpfs:map[json] token:string transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int tty:boolean ulimits:array[ulimit] " +
			"user:string userPorts:array[string] userdata:string usernsMode:string uts:string " +
			"uuid:string vcpu:int version:string volumeDriver:string workingDir:string"},
	{id: "secret", perms: "crud",
		actions: "remove>secret",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string value:string"},
	{id: "service", perms: "crud",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] assignServiceIpAddress:boolean createIndex:int created:date " +
			"currentScale:int data:map[json] description:string externalId:string fqdn:string " +
			"healthState:enum instanceIds:array[reference[instance]] kind:string " +
			"launchConfig:launchConfig lbConfig:lbTargetConfig linkedServices:map[json] " +
			"metadata:map[json] name:string publicEndpoints:array[publicEndpoint] removeTime:date " +
			"removed:date retainIp:boolean scale:int scalePolicy:scalePolicy " +
			"secondaryLaunchConfigs:array[secondaryLaunchConfig] selectorContainer:string " +
			"selectorLink:string stackId:reference[stack] startOnCreate:boolean state:enum " +
			"system:boolean transitioning:enum transitioningMessage:string transitioningProgress:int " +
			"upgrade:serviceUpgrade uuid:string vip:string"},
	{id: "serviceBinding", perms: "cru",
		actions: "",
		fields:  "labels:map[json] ports:array[string]"},
	{id: "serviceConsumeMap", perms: "r",
		actions: "remove>serviceConsumeMap update>serviceConsumeMap",
		fields: "accountId:reference[account] consumedServiceId:reference[service] created:date " +
			"data:map[json] description:string kind:string name:string ports:array[string] " +
			"removeTime:date removed:date serviceId:reference[service] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "serviceEvent", perms: "r",
		actions: "remove>serviceEvent",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"externalTimestamp:int healthcheckUuid:string hostId:reference[host] " +
			"instanceId:reference[instance] kind:string name:string removeTime:date removed:date " +
			"reportedHealth:string state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string"},
	{id: "serviceExposeMap", perms: "r",
		actions: "remove>serviceExposeMap",
		fields: "accountId:reference[account] created:date data:map[json] description:string " +
			"instanceId:reference[instance] ipAddress:string kind:string managed:boolean name:string " +
			"removeTime:date removed:date serviceId:reference[service] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "serviceLink", perms: "cr",
		actions: "",
		fields:  "name:string serviceId:reference[service] uuid:string"},
	{id: "serviceLog", perms: "r",
		actions: "",
		fields: "accountId:reference[account] created:date data:map[json] description:string endTime:date " +
			"eventType:string instanceId:reference[instance] kind:string level:string " +
			"serviceId:reference[service] subLog:boolean transactionId:reference[transaction]"},
	{id: "serviceProxy", perms: "cr",
		actions: "",
		fields:  "port:int scheme:string service:string token:string url:string"},
	{id: "serviceRestart", perms: "cr",
		actions: "",
		fields:  "rollingRestartStrategy:rollingRestartStrategy"},
	{id: "servicesPortRange", perms: "cru",
		actions: "",
		fields:  "endPort:int startPort:int"},
	{id: "serviceUpgrade", perms: "cr",
		actions: "",
		fields:  "inServiceStrategy:inServiceUpgradeStrategy toServiceStrategy:toServiceUpgradeStrategy"},
	{id: "serviceUpgradeStrategy", perms: "r",
		actions: "",
		fields:  "batchSize:int intervalMillis:int"},
	{id: "setProjectMembersInput", perms: "cr",
		actions: "",
		fields:  "members:array[projectMember]"},
	{id: "setServiceLinksInput", perms: "cr",
		actions: "",
		fields:  "serviceLinks:array[serviceLink]"},
	{id: "setting", perms: "r",
		actions: "",
		fields:  "activeValue:string inDb:boolean name:string source:string value:string"},
	{id: "snapshot", perms: "rd",
		actions: "backup:snapshotBackupInput>backup remove>snapshot",
		fields: "accountId:reference[account] created:date data:map[json] description:string kind:string " +
			"name:string removeTime:date removed:date state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string " +
			"volumeId:reference[volume]"},
	{id: "snapshotBackupInput", perms: "r",
		actions: "remove>backup",
		fields:  "backupTargetId:reference[backupTarget] data:map[json] name:string removeTime:date"},
	{id: "stack", perms: "crud",
		actions: "activateservices>stack addoutputs:addOutputsInput>stack cancelupgrade>stack deactivateservices>stack exportconfig:composeConfigInput>composeConfig finishupgrade>stack remove>stack rollback>stack update>stack upgrade:stackUpgrade>stack",
		fields: "accountId:reference[account] answers:map[json] binding:binding created:date data:map[json] " +
			"description:string dockerCompose:string environment:map[json] externalId:string " +
			"group:string healthState:enum kind:string name:string outputs:map[json] " +
			"previousEnvironment:map[json] previousExternalId:reference[external] rancherCompose:string " +
			"removeTime:date removed:date serviceIds:array[reference[service]] startOnCreate:boolean " +
			"state:enum system:boolean templates:map[json] transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "stackUpgrade", perms: "cr",
		actions: "",
		fields: "answers:map[json] dockerCompose:string environment:map[json] externalId:string " +
			"rancherCompose:string templates:map[json]"},
	{id: "statsAccess", perms: "r",
		actions: "",
		fields:  "token:string url:string"},
	{id: "storageDriver", perms: "r",
		actions: "activate>storageDriver deactivate>storageDriver remove>storageDriver update>storageDriver",
		fields: "accountId:reference[account] blockDevicePath:string created:date data:map[json] " +
			"description:string kind:string name:string removeTime:date removed:date scope:string " +
			"serviceId:reference[service] state:enum transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string volumeAccessMode:string " +
			"volumeCapabilities:array[string]"},
	{id: "storageDriverService", perms: "crud",
		actions: "activate>service addservicelink:addRemoveServiceLinkInput>service cancelupgrade>service continueupgrade>service deactivate>service finishupgrade>service remove>service removeservicelink:addRemoveServiceLinkInput>service restart:serviceRestart>service rollback>service setservicelinks:setServiceLinksInput>service update>service upgrade:serviceUpgrade>service",
		fields: "accountId:reference[account] assignServiceIpAddress:boolean createIndex:int created:date " +
			"currentScale:int data:map[json] description:string externalId:string fqdn:string " +
			"healthState:enum instanceIds:array[reference[instance]] kind:string " +
			"launchConfig:launchConfig lbConfig:lbTargetConfig linkedServices:map[json] " +
			"metadata:map[json] name:string publicEndpoints:array[publicEndpoint] removeTime:date " +
			"removed:date retainIp:boolean scale:int scalePolicy:scalePolicy " +
			"secondaryLaunchConfigs:array[secondaryLaunchConfig] selectorContainer:string " +
			"selectorLink:string stackId:reference[stack] startOnCreate:boolean state:enum " +
			"storageDriver:storageDriver system:boolean transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int upgrade:serviceUpgrade uuid:string vip:string"},
	{id: "storagePool", perms: "r",
		actions: "activate>storagePool deactivate>storagePool purge>storagePool remove>storagePool restore>storagePool update>storagePool",
		fields: "accountId:reference[account] blockDevicePath:string created:date data:map[json] " +
			"description:string driverName:string externalId:string hostIds:array[reference[host]] " +
			"kind:string name:string removeTime:date removed:date state:enum " +
			"storageDriverId:reference[storageDriver] transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uuid:string volumeAccessMode:string " +
			"volumeCapabilities:array[string] volumeIds:array[reference[volume]]"},
	{id: "subscribe", perms: "cr",
		actions: "",
		fields:  "agentId:reference[agent] eventNames:array[string]"},
	{id: "subnet", perms: "r",
		actions: "activate>subnet deactivate>subnet purge>subnet remove>subnet restore>subnet update>subnet",
		fields: "accountId:reference[account] cidrSize:int created:date data:map[json] description:string " +
			"endAddress:string gateway:string kind:string name:string networkAddress:string " +
			"networkId:reference[network] removeTime:date removed:date startAddress:string state:enum " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int uuid:string"},
	{id: "targetPortRule", perms: "cr",
		actions: "",
		fields:  "backendName:string hostname:string path:string targetPort:int"},
	{id: "toServiceUpgradeStrategy", perms: "cr",
		actions: "",
		fields: "batchSize:int finalScale:int intervalMillis:int toServiceId:reference[service] " +
			"updateLinks:boolean"},
	{id: "typeDocumentation", perms: "r",
		actions: "",
		fields:  "description:string resourceFields:map[json]"},
	{id: "ulimit", perms: "cr",
		actions: "",
		fields:  "hard:int name:string soft:int"},
	{id: "virtualMachine", perms: "crud",
		actions: "console:instanceConsoleInput>instanceConsole execute:containerExec>hostAccess logs:containerLogs>hostAccess migrate>instance proxy:containerProxy>hostAccess purge>instance remove>instance restart>instance restore>instance start>instance stop:instanceStop>instance update>instance",
		fields: "accountId:reference[account] agentId:reference[agent] allocationState:string " +
			"blkioDeviceOptions:map[json] blkioWeight:int cgroupParent:string command:array[string] " +
			"count:int cpuCount:int cpuPercent:int cpuPeriod:int cpuQuota:int cpuSet:string " +
			"cpuSetMems:string cpuShares:int createIndex:int created:date data:map[json] " +
			"deploymentUnitUuid:string description:string diskQuota:int disks:array[virtualMachineDisk] " +
			"dns:array[string] dnsOpt:array[string] dnsSearch:array[string] domainName:string " +
			"expose:array[string] externalId:string extraHosts:array[string] firstRunning:date " +
			"groupAdd:array[string] healthCheck:instanceHealthCheck healthCmd:array[string] " +
			"healthInterval:int healthRetries:int healthState:enum healthTimeout:int " +
			"hostId:reference[host] hostname:string imageUuid:string instanceLinks:map[json] " +
			"instanceTriggeredStop:string ioMaximumBandwidth:int ioMaximumIOps:int ip:string ip6:string " +
			"ipcMode:string isolation:string kernelMemory:int kind:string labels:map[json] " +
			"logConfig:logConfig memory:int memoryMb:int memoryReservation:int memorySwap:int " +
			"memorySwappiness:int milliCpuReservation:int mounts:array[mountEntry] name:string " +
			"nativeContainer:boolean netAlias:array[string] networkIds:array[reference[network]] " +
			"networkMode:string oomKillDisable:boolean oomScoreAdj:int pidsLimit:int ports:array[string] " +
			"primaryIpAddress:string primaryNetworkId:reference[network] " +
			"registryCredentialId:reference[registryCredential] removeTime:date removed:date " +
			"requestedHostId:reference[host] restartPolicy:restartPolicy securityOpt:array[string] " +
			"serviceId:reference[service] serviceIds:array[reference[service]] shmSize:int " +
			"stackId:reference[stack] startCount:int startOnCreate:boolean state:enum stopSignal:string " +
			"storageOpt:map[json] sysctls:map[json] system:boolean tmpfs:map[json] token:string " +
			"transitioning:enum transitioningMessage:string transitioningProgress:int " +
			"ulimits:array[ulimit] userPorts:array[string] userdata:string usernsMode:string uts:string " +
			"uuid:string vcpu:int version:string volumeDriver:string"},
	{id: "virtualMachineDisk", perms: "cr",
		actions: "",
		fields: "driver:string name:string opts:map[json] readIops:int root:boolean size:string " +
			"writeIops:int"},
	{id: "volume", perms: "crud",
		actions: "purge>volume remove>volume restore>volume restorefrombackup:restoreFromBackupInput>volume reverttosnapshot:revertToSnapshotInput>volume snapshot:volumeSnapshotInput>snapshot update>volume",
		fields: "accessMode:string accountId:reference[account] created:date data:map[json] " +
			"description:string driver:string driverOpts:map[json] externalId:string " +
			"hostId:reference[host] imageId:reference[image] instanceId:reference[instance] " +
			"isHostPath:boolean kind:string mounts:array[mountEntry] name:string removeTime:date " +
			"removed:date sizeMb:int stackId:reference[stack] state:enum " +
			"storageDriverId:reference[storageDriver] transitioning:enum transitioningMessage:string " +
			"transitioningProgress:int uri:string uuid:string volumeTemplateId:reference[volumeTemplate]"},
	{id: "volumeActivateInput", perms: "cr",
		actions: "",
		fields:  "hostId:reference[host]"},
	{id: "volumeSnapshotInput", perms: "r",
		actions: "",
		fields:  "name:string"},
	{id: "volumeTemplate", perms: "cr",
		actions: "activate>volumeTemplate deactivate>volumeTemplate purge>volumeTemplate remove>volumeTemplate restore>volumeTemplate update>volumeTemplate",
		fields: "accountId:reference[account] created:date data:map[json] description:string driver:string " +
			"driverOpts:map[json] external:boolean kind:string name:string perContainer:boolean " +
			"removeTime:date removed:date stackId:reference[stack] state:enum transitioning:enum " +
			"transitioningMessage:string transitioningProgress:int uuid:string"},
}
