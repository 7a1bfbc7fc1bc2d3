// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title LocalMulticall
 * @notice The one Multicall3 function the x402 EVM facilitator calls, for the LOCAL test chain.
 *
 * The x402 EVM facilitator (npm package x402 evm) diagnoses a failed `transferWithAuthorization` simulation with a single
 * `tryAggregate(false, calls)` read (balanceOf, name, version, authorizationState) at Multicall3's
 * canonical address. Without code there, every failure is reported as the generic
 * `invalid_exact_evm_transaction_simulation_failed` instead of e.g.
 * `invalid_exact_evm_nonce_already_used`. The local chain installs this runtime code at
 * 0xcA11bde05977b3631167028862bE2a173976CA11 with `hardhat_setCode`; it has no constructor and no
 * immutables, so its deployed bytecode works at any address.
 */
contract LocalMulticall {
    struct Call {
        address target;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Calls every target in order; reverts on a failed call only when `requireSuccess`.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(success || !requireSuccess, "LocalMulticall: call failed");
            returnData[i] = Result(success, ret);
        }
    }
}
