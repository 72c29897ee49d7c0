/**
 * Imported first by the modules that load the Fabric 2.2 SDK (fabric-network, fabric-ca-client,
 * fabric-common): quiets its console logger before it is created (chaincode/fabric-internals.ts).
 */
import { quietFabricSdk } from '../../../chaincode/fabric-internals.js';

quietFabricSdk();
